package dev.ferry.activities.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.ledger.TemporalRuns;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A rehearsal's overlap check (which runs of its app are running) against a real ledger
 * database; whether Temporal runs a workflow, against the real Temporal server.
 */
class RehearsalOverlapCheckTest {
  static final TestCluster CLUSTER = TestCluster.TARGET;
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static String database;
  static LedgerDatabase ledger;

  TestActivityEnvironment env;
  LedgerActivities events;
  RehearsalLedgerActivities rehearsals;
  /** The runs Temporal says are running. */
  final Set<String> temporalRunning = new java.util.concurrent.CopyOnWriteArraySet<>();

  @BeforeAll
  static void createLedger() throws Exception {
    database = TestCluster.uniqueDatabaseName("ferry_ledger_test");
    CLUSTER.createDatabase(database);
    ledger = LedgerDatabase.of(CLUSTER.url(database), Map.of());
    ledger.migrate();
  }

  @AfterAll
  static void dropLedger() throws Exception {
    CLUSTER.dropDatabase(database);
  }

  @BeforeEach
  void startEnvironment() {
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new LedgerActivitiesImpl(ledger), new RehearsalLedgerActivitiesImpl(ledger, temporalRunning::contains));
    events = env.newActivityStub(LedgerActivities.class);
    rehearsals = env.newActivityStub(RehearsalLedgerActivities.class);
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  @Test
  void openRunsOfTheApp_thatTemporalStillRuns_areNamed() {
    event("migration-overlap-00000001", RunKind.MIGRATION, "overlap", 1, RunState.RUNNING);
    event("rehearsal-overlap-00000002", RunKind.REHEARSAL, "overlap", 1, RunState.RUNNING);
    event("rehearsal-overlap-00000003", RunKind.REHEARSAL, "overlap", 1, RunState.SUCCEEDED);
    event("migration-other-00000004", RunKind.MIGRATION, "other", 1, RunState.RUNNING);
    temporalRunning.addAll(Set.of("migration-overlap-00000001", "rehearsal-overlap-00000002", "migration-other-00000004"));

    assertThat(rehearsals.activeRuns("overlap"))
        .extracting(ActiveRun::runId)
        .containsExactly("migration-overlap-00000001", "rehearsal-overlap-00000002");
  }

  @Test
  void aRunTheLedgerStillShowsOpen_butTemporalEnded_doesNotBlock() {
    event("migration-stale-00000001", RunKind.MIGRATION, "stale", 1, RunState.AWAITING_APPROVAL);
    event("rehearsal-stale-00000002", RunKind.REHEARSAL, "stale", 1, RunState.RUNNING);
    temporalRunning.add("rehearsal-stale-00000002");

    assertThat(rehearsals.activeRuns("stale")).extracting(ActiveRun::runId).containsExactly("rehearsal-stale-00000002");
  }

  @Test
  void temporalSaysRunning_onlyForAWorkflowThatRuns() {
    try (TemporalDevServer server = TemporalDevServer.start()) {
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(server.address()).build());
      try {
        WorkflowClient client = WorkflowClient.newInstance(stubs);
        // No worker polls this queue: the workflow stays running until it is terminated.
        WorkflowStub run =
            client.newUntypedWorkflowStub(
                "MigrationWorkflow",
                WorkflowOptions.newBuilder().setWorkflowId("migration-shop-0000beef").setTaskQueue("nobody-polls").build());
        run.start();

        assertThat(TemporalRuns.isRunning(client, "migration-shop-0000beef")).isTrue();
        assertThat(TemporalRuns.isRunning(client, "migration-shop-00000000")).isFalse();
        run.terminate("ended outside Ferry");
        assertThat(TemporalRuns.isRunning(client, "migration-shop-0000beef")).isFalse();
      } finally {
        stubs.shutdownNow();
      }
    }
  }

  private void event(String runId, RunKind kind, String app, long seq, RunState state) {
    events.recordRunEvent(
        new RunEvent(runId, seq, T0.plusSeconds(seq), RunEventType.STARTED, kind, app, state, null, "olivia", null, null));
  }
}

package dev.ferry.activities.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.RunOverlapActivities;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.testing.postgres.TestCluster;
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
 * The overlap checks (a rehearsal schedule's, and a rehearsal's own) against a real ledger
 * database, Temporal faked.
 */
class RunOverlapActivitiesTest {
  static final TestCluster CLUSTER = TestCluster.TARGET;
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static String database;
  static LedgerDatabase ledger;

  TestActivityEnvironment env;
  LedgerActivities events;
  RunOverlapActivities overlap;
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
        new LedgerActivitiesImpl(ledger),
        new RunOverlapActivitiesImpl(ledger, temporalRunning::contains),
        new dev.ferry.activities.rehearsal.RehearsalLedgerActivitiesImpl(ledger, temporalRunning::contains));
    events = env.newActivityStub(LedgerActivities.class);
    overlap = env.newActivityStub(RunOverlapActivities.class);
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

    assertThat(overlap.runningRunsOf("overlap")).containsExactlyInAnyOrder("migration-overlap-00000001", "rehearsal-overlap-00000002");
  }

  @Test
  void aRunTheLedgerStillShowsOpen_butTemporalForgot_doesNotBlock() {
    event("migration-forgot-00000001", RunKind.MIGRATION, "forgot", 1, RunState.AWAITING_APPROVAL);

    assertThat(overlap.runningRunsOf("forgot")).isEmpty();
  }

  @Test
  void aRehearsalsOwnCheck_alsoIgnoresRunsTemporalForgot() {
    event("migration-stale-00000001", RunKind.MIGRATION, "stale", 1, RunState.AWAITING_APPROVAL);
    event("rehearsal-stale-00000002", RunKind.REHEARSAL, "stale", 1, RunState.RUNNING);
    temporalRunning.add("rehearsal-stale-00000002");

    var active = env.newActivityStub(dev.ferry.activity.RehearsalLedgerActivities.class).activeRuns("stale");

    assertThat(active).extracting(dev.ferry.model.rehearsal.ActiveRun::runId).containsExactly("rehearsal-stale-00000002");
  }

  private void event(String runId, RunKind kind, String app, long seq, RunState state) {
    events.recordRunEvent(
        new RunEvent(runId, seq, T0.plusSeconds(seq), RunEventType.STARTED, kind, app, state, null, "olivia", null, null));
  }
}

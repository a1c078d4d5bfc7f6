package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalReport.PhaseTiming;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeRehearsals;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The rehearsal workflow under the time-skipping test server, with fake activities. */
class RehearsalWorkflowTest {
  static final String QUEUE = "ferry";
  static final String ID = "rehearsal-shop-1a2b3c4d";
  static final String SCRATCH = "ferry_rehearsal_1a2b3c4d";

  TestWorkflowEnvironment env;
  WorkflowClient client;
  FakeDatabases databases;
  FakeRehearsals rehearsals;

  @BeforeEach
  void startEnvironment() {
    env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance());
    databases = new FakeDatabases();
    rehearsals = new FakeRehearsals();
    Worker worker = env.newWorker(QUEUE);
    worker.registerWorkflowImplementationFactory(RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(WorkflowTestBase.TUNING));
    worker.registerActivitiesImplementations(databases, rehearsals);
    env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  RehearsalWorkflow start(Runbook runbook) {
    RehearsalWorkflow run =
        client.newWorkflowStub(RehearsalWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(ID).build());
    WorkflowClient.start(run::rehearse, new RehearsalRequest(runbook, "olivia", null, true));
    return run;
  }

  RehearsalReport rehearse(Runbook runbook) {
    return WorkflowStub.fromTyped(start(runbook)).getResult(RehearsalReport.class);
  }

  static PhaseTiming phase(RehearsalReport report, String name) {
    return report.phases().stream().filter(p -> p.phase().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aRehearsal_timesEveryPhase_estimatesTheDowntime_andDropsItsScratchDatabase() {
    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isTrue();
    assertThat(report.outcome()).isEqualTo("succeeded");
    assertThat(report.errors()).isEmpty();
    assertThat(report.phases()).extracting(PhaseTiming::phase).containsExactlyElementsOf(RehearsalWorkflowImpl.PHASES);
    assertThat(report.phases()).allSatisfy(p -> {
      assertThat(p.state()).isEqualTo(PhaseTiming.SUCCEEDED);
      assertThat(p.duration()).isNotNull();
    });
    assertThat(report.bytes()).isEqualTo(1_000_000);
    assertThat(report.rows()).isEqualTo(25_000);
    assertThat(report.verification()).startsWith("MATCH");
    assertThat(report.estimatedDowntime()).isNotNull();
    assertThat(report.estimateBasis()).startsWith("single-phase: freeze").contains("snapshot", "restore", "verify", "sequence sync");
    assertThat(rehearsals.created).containsExactly(SCRATCH);
    assertThat(rehearsals.dropped).containsExactly(SCRATCH);
    assertThat(rehearsals.scratchDatabases).isEmpty();
    assertThat(databases.calls()).contains("discardSnapshot /tmp/ferry/snapshots/2").doesNotContain("freezeSource", "unfreezeSource");
    assertThat(rehearsals.reports).containsExactly(report);
  }

  @Test
  void theProductionTarget_isNeverHandedToAnActivity() {
    rehearse(Runbooks.shop());

    assertThat(databases.targetRefs).isNotEmpty().allSatisfy(ref -> assertThat(ref).isEqualTo("scratch:" + SCRATCH + "@env:SHOP_TARGET_URL"));
  }

  @Test
  void theLedger_getsTheRehearsalAsARunOfKindRehearsal_fromStartToFinish() {
    rehearse(Runbooks.shop());

    List<RunEvent> events = databases.ledger;
    assertThat(events).allSatisfy(e -> {
      assertThat(e.kind()).isEqualTo(RunKind.REHEARSAL);
      assertThat(e.runId()).isEqualTo(ID);
    });
    assertThat(events.get(0).type()).isEqualTo(RunEventType.STARTED);
    assertThat(events.get(0).actor()).isEqualTo("olivia");
    RunEvent last = events.stream().filter(e -> e.type() == RunEventType.FINISHED).findFirst().orElseThrow();
    assertThat(last.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(events).extracting(RunEvent::seq).doesNotHaveDuplicates();
  }

  @Test
  void aRestoreThatFailsMidway_stillDropsTheScratchDatabase_andReportsTheFailure() {
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore: error: out of disk", Errors.RESTORE_FAILED);

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isFalse();
    assertThat(report.outcome()).isEqualTo("failed");
    assertThat(report.errors()).singleElement().asString().contains("restore", "out of disk");
    assertThat(phase(report, "restore").state()).isEqualTo(PhaseTiming.FAILED);
    assertThat(phase(report, "restore").duration()).isNotNull();
    assertThat(phase(report, "verify").state()).isEqualTo(PhaseTiming.SKIPPED);
    assertThat(phase(report, "drop-scratch").state()).isEqualTo(PhaseTiming.SUCCEEDED);
    assertThat(phase(report, "discard-snapshot").state()).isEqualTo(PhaseTiming.SUCCEEDED);
    assertThat(report.estimatedDowntime()).isNull();
    assertThat(rehearsals.scratchDatabases).isEmpty();
    assertThat(rehearsals.dropped).containsExactly(SCRATCH);
    assertThat(rehearsals.reports).containsExactly(report);
  }

  @Test
  void aCancelledRehearsal_dropsItsScratchDatabase_andRecordsItsReport() throws Exception {
    databases.holdRestore();
    RehearsalWorkflow run = start(Runbooks.shop());
    assertThat(databases.awaitRestoreStarted()).isTrue();

    WorkflowStub.fromTyped(run).cancel();

    try {
      assertThatThrownBy(() -> WorkflowStub.fromTyped(run).getResult(RehearsalReport.class))
          .isInstanceOf(WorkflowFailedException.class)
          .hasCauseInstanceOf(CanceledFailure.class);
    } finally {
      // Only now: a restore that completes while the cancellation is on its way trips the test server.
      databases.releaseRestore();
    }
    assertThat(rehearsals.scratchDatabases).isEmpty();
    assertThat(rehearsals.dropped).containsExactly(SCRATCH);
    assertThat(databases.calls()).anyMatch(c -> c.startsWith("discardSnapshot"));
    RehearsalReport report = rehearsals.reports.get(0);
    assertThat(report.succeeded()).isFalse();
    assertThat(report.errors()).containsExactly("the rehearsal was cancelled");
    assertThat(phase(report, "restore").state()).isEqualTo(PhaseTiming.FAILED);
    assertThat(databases.ledger).anySatisfy(e -> {
      assertThat(e.type()).isEqualTo(RunEventType.FINISHED);
      assertThat(e.state()).isEqualTo(RunState.CANCELLED);
    });
  }

  @Test
  void aScratchDatabaseTheTargetRefuses_failsTheRehearsal_naming_CREATEDB() {
    rehearsals.createFailure =
        ApplicationFailure.newNonRetryableFailure(
            "target: the role ferry may not create databases: grant it CREATEDB", Errors.SCRATCH_DATABASE_REFUSED);

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isFalse();
    assertThat(report.errors()).singleElement().asString().contains("create-scratch", "CREATEDB");
    assertThat(databases.calls()).doesNotContain("dumpDatabase", "restoreDatabase");
    // The drop is tried anyway (a create that died halfway may have left the database).
    assertThat(phase(report, "drop-scratch").state()).isEqualTo(PhaseTiming.SUCCEEDED);
  }

  @Test
  void aScratchDatabaseThatCannotBeDropped_isAnErrorOfTheReport_namingIt() {
    rehearsals.dropFailure = ApplicationFailure.newNonRetryableFailure("permission denied", Errors.STEP_FAILED);

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isFalse();
    assertThat(report.errors()).singleElement().asString().contains(SCRATCH, "drop it by hand");
  }

  @Test
  void aMigrationOfTheApp_underWay_makesTheRehearsalSkip_andTheSkipIsRecorded() {
    rehearsals.active.add(new ActiveRun("migration-shop-00000001", RunKind.MIGRATION, "AWAITING_APPROVAL", Instant.EPOCH));

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.outcome()).isEqualTo("skipped");
    assertThat(report.skipped()).contains("migration-shop-00000001");
    assertThat(report.succeeded()).isFalse();
    assertThat(phase(report, "overlap-check").state()).isEqualTo(PhaseTiming.SUCCEEDED);
    assertThat(phase(report, "snapshot").state()).isEqualTo(PhaseTiming.SKIPPED);
    assertThat(rehearsals.created).isEmpty();
    assertThat(databases.calls()).isEmpty();
    assertThat(rehearsals.reports).containsExactly(report);
    assertThat(databases.ledger).anySatisfy(e -> {
      assertThat(e.type()).isEqualTo(RunEventType.FINISHED);
      assertThat(e.detail()).startsWith("skipped:");
    });
  }

  @Test
  void anOlderRehearsalUnderWay_makesThisOneSkip_butANewerOneDoesNot() {
    // This rehearsal's own row, as the ledger shows it, between the two others.
    rehearsals.active.add(new ActiveRun(ID, RunKind.REHEARSAL, "RUNNING", Instant.parse("2026-11-22T10:00:00Z")));
    rehearsals.active.add(new ActiveRun("rehearsal-shop-99999999", RunKind.REHEARSAL, "RUNNING", Instant.parse("2026-11-22T10:00:05Z")));

    assertThat(rehearse(Runbooks.shop()).outcome()).isEqualTo("succeeded");

    env.close();
    startEnvironment();
    rehearsals.active.add(new ActiveRun(ID, RunKind.REHEARSAL, "RUNNING", Instant.parse("2026-11-22T10:00:00Z")));
    rehearsals.active.add(new ActiveRun("rehearsal-shop-00000000", RunKind.REHEARSAL, "RUNNING", Instant.parse("2026-11-22T09:59:00Z")));

    RehearsalReport report = rehearse(Runbooks.shop());
    assertThat(report.outcome()).isEqualTo("skipped");
    assertThat(report.skipped()).contains("rehearsal-shop-00000000");
  }

  @Test
  void rowsThatChangedOnTheLiveSource_areDrift_notAFailure() {
    databases.verification =
        VerificationReport.of(
            List.of(
                FakeDatabases.matching("public.customers", 5000),
                new TableComparison("public.orders", 20010, 20000, "primary key range", 2, 1, List.of(), false)),
            List.of(new SequenceComparison("public.orders_id_seq", 20011L, 20001L, false)),
            List.of());

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isTrue();
    assertThat(report.verification()).startsWith("DRIFT").contains("1 table(s) and 1 sequence(s)");
  }

  @Test
  void aSchemaDifference_failsTheRehearsal_andStillDropsTheScratchDatabase() {
    databases.verification =
        VerificationReport.of(
            List.of(FakeDatabases.matching("public.customers", 5000), TableComparison.oneSided("public.orders", 20000, -1)),
            List.of(),
            List.of());

    RehearsalReport report = rehearse(Runbooks.shop());

    assertThat(report.succeeded()).isFalse();
    assertThat(report.verification()).startsWith("FAILED");
    assertThat(phase(report, "verify").state()).isEqualTo(PhaseTiming.FAILED);
    assertThat(phase(report, "sync-sequences").state()).isEqualTo(PhaseTiming.SKIPPED);
    assertThat(report.errors()).singleElement().asString().contains("verification failed");
    assertThat(rehearsals.scratchDatabases).isEmpty();
  }

  @Test
  void aMultiPhaseRunbook_isEstimatedWithTheDrainModel() {
    RehearsalReport report = rehearse(Runbooks.shopMultiPhase());

    assertThat(report.succeeded()).isTrue();
    assertThat(report.strategy()).isEqualTo("multi-phase");
    assertThat(report.estimateBasis()).startsWith("multi-phase: freeze").contains("drain 30.0 s (model", "final verify");
    assertThat(report.estimatedDowntime()).isGreaterThanOrEqualTo(java.time.Duration.ofSeconds(30));
  }

  @Test
  void aRequestWithoutARunbook_failsTheRehearsalAtOnce_insteadOfRetryingForever() {
    RehearsalWorkflow run =
        client.newWorkflowStub(RehearsalWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(ID).build());

    assertThatThrownBy(() -> run.rehearse(new RehearsalRequest(null, "olivia", null, true)))
        .isInstanceOf(WorkflowFailedException.class)
        .rootCause()
        .hasMessageContaining("a rehearsal needs a runbook");
  }

  @Test
  void theStatusQuery_showsTheRehearsalsPhases() throws Exception {
    databases.holdRestore();
    RehearsalWorkflow run = start(Runbooks.shop());
    try {
      assertThat(databases.awaitRestoreStarted()).isTrue();
      var status = run.status();
      assertThat(status.runId()).isEqualTo(ID);
      assertThat(status.phase()).isEqualTo("restore");
      assertThat(status.steps()).extracting(s -> s.name()).containsExactlyElementsOf(RehearsalWorkflowImpl.PHASES);
    } finally {
      databases.releaseRestore();
    }
    assertThat(WorkflowStub.fromTyped(run).getResult(RehearsalReport.class).succeeded()).isTrue();
  }
}

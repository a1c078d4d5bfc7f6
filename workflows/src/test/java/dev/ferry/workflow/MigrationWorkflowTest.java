package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Decision;
import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The single-phase migration under Temporal's time-skipping test server, with fake databases. */
class MigrationWorkflowTest {
  static final String QUEUE = "ferry";
  static final String OPERATOR = "olivia";
  static final String APPROVER = "arjun";

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private FakeDatabases databases;
  private int runs;

  @BeforeEach
  void startEnvironment() {
    env = TestWorkflowEnvironment.newInstance();
    databases = new FakeDatabases();
    Worker worker = env.newWorker(QUEUE);
    // The test server cannot skip time over an activity nobody picks up, so the wait for a lost
    // host is shortened to real seconds.
    worker.registerWorkflowImplementationFactory(
        MigrationWorkflow.class, () -> new MigrationWorkflowImpl(Duration.ofSeconds(2)));
    worker.registerActivitiesImplementations(databases);
    Worker host = env.newWorker(FakeDatabases.HOST_QUEUE);
    host.registerActivitiesImplementations(databases);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  @Test
  void approvedStartGate_runsEveryStepInOrderAndSucceeds() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    Decision decision = run.decide(approve("start", APPROVER));

    assertThat(decision.decidedBy()).isEqualTo(APPROVER);
    assertThat(decision.via()).isEqualTo(Decision.VIA_UPDATE);
    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.steps())
        .extracting(StepStatus::name, StepStatus::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("preflight", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("gate:start", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("freeze-source", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("snapshot", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("restore", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("verify", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("sync-sequences", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("unfreeze-source", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("discard-snapshot", StepState.DONE));
    assertThat(result.steps()).allSatisfy(s -> assertThat(s.startedAt()).isNotNull());
    assertThat(result.steps()).allSatisfy(s -> assertThat(s.durationMillis()).isNotNull());
    assertThat(result.verification().tables()).hasSize(2);
    assertThat(result.decisions()).containsExactly(decision);
    assertThat(result.pendingGate()).isNull();
    assertThat(databases.calls())
        .containsExactly(
            "auditDatabases",
            "freezeSource",
            "dumpDatabase",
            "restoreDatabase",
            "verifyDatabases",
            "syncSequences",
            "unfreezeSource",
            "discardSnapshot /tmp/ferry/snapshots/3");
  }

  @Test
  void pendingGate_showsItsDeadlineAndApproversAndTouchesNothing() {
    MigrationWorkflow run = start(Runbooks.shop());

    RunStatus status = awaitGate(run, "start");

    assertThat(status.state()).isEqualTo(RunState.AWAITING_APPROVAL);
    assertThat(status.phase()).isEqualTo("awaiting approval: start");
    assertThat(status.pendingGate().approvers()).containsExactly("arjun", "beatriz");
    assertThat(Duration.between(status.pendingGate().openedAt(), status.pendingGate().deadline()))
        .isEqualTo(Duration.ofHours(24));
    assertThat(status.preflight().source().serverVersion()).isEqualTo("15.20");
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void rejectedStartGate_endsRejectedWithoutTouchingData() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    run.decide(new GateDecision("start", Verdict.REJECT, APPROVER, "not during the sale"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(step(result, "gate:start").state()).isEqualTo(StepState.FAILED);
    assertThat(step(result, "gate:start").detail()).isEqualTo("rejected by arjun: not during the sale");
    assertThat(step(result, "snapshot").state()).isEqualTo(StepState.SKIPPED);
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void starterCannotApprove_updateRefusedAndGateStillPending() {
    MigrationWorkflow run = start(Runbooks.shopWithStartGate("approvers: []"));
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("start", OPERATOR)), GateDecisionRefused.Reason.SELF_APPROVAL);

    RunStatus status = run.status();
    assertThat(status.pendingGate().gate()).isEqualTo("start");
    assertThat(status.decisions()).isEmpty();
    run.decide(approve("start", "someone-else"));
    assertThat(resultOf(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void runbookAllowingSelfApproval_letsTheStarterApprove() {
    MigrationWorkflow run = start(Runbooks.shopWithStartGate("allowSelfApproval: true"));
    awaitGate(run, "start");

    run.decide(approve("start", OPERATOR));

    assertThat(resultOf(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void approverNotListedInRunbook_refused() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("start", "mallory")), GateDecisionRefused.Reason.NOT_AN_APPROVER);
  }

  @Test
  void decisionForAGateThatIsNotPending_refused() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("cutover", APPROVER)), GateDecisionRefused.Reason.NOT_PENDING);
  }

  @Test
  void rejectionWithoutComment_refused() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(
        () -> run.decide(new GateDecision("start", Verdict.REJECT, APPROVER, " ")),
        GateDecisionRefused.Reason.COMMENT_REQUIRED);
  }

  @Test
  void decisionWithoutApprover_refused() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(
        () -> run.decide(new GateDecision("start", Verdict.APPROVE, null, null)),
        GateDecisionRefused.Reason.INVALID);
  }

  @Test
  void secondDecisionOnADecidedGate_refusedAndHarmless() throws Exception {
    databases.holdRestore();
    MigrationWorkflow run = startApproved();
    assertThat(databases.awaitRestoreStarted()).isTrue();

    assertRefused(
        () -> run.decide(new GateDecision("start", Verdict.REJECT, "beatriz", "changed my mind")),
        GateDecisionRefused.Reason.ALREADY_DECIDED);
    WorkflowStub.fromTyped(run)
        .signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", "beatriz"));
    Eventually.get("the duplicate signal to be refused", run::status, s -> !s.refusedDecisions().isEmpty());
    databases.releaseRestore();

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.decisions()).hasSize(1);
    assertThat(result.refusedDecisions().get(0).reason()).startsWith("ALREADY_DECIDED");
  }

  @Test
  void signalFromTheStarter_isRefusedAndRecorded_signalFromAnApprover_opensTheGate() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");
    WorkflowStub stub = WorkflowStub.fromTyped(run);

    stub.signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", OPERATOR));
    RunStatus afterRefusal =
        Eventually.get("the starter's signal to be refused", run::status, s -> !s.refusedDecisions().isEmpty());
    assertThat(afterRefusal.pendingGate()).isNotNull();
    assertThat(afterRefusal.refusedDecisions().get(0).by()).isEqualTo(OPERATOR);

    stub.signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", "beatriz"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.decisions()).singleElement().satisfies(d -> {
      assertThat(d.decidedBy()).isEqualTo("beatriz");
      assertThat(d.via()).isEqualTo(Decision.VIA_SIGNAL);
    });
  }

  @Test
  void gateDeadline_rejectsNeverApproves() {
    MigrationWorkflow run = start(Runbooks.shopWithStartGate("timeout: 2h"));
    awaitGate(run, "start");

    RunStatus result = resultOf(run); // time skipping jumps over the two hours

    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(result.decisions()).singleElement().satisfies(d -> {
      assertThat(d.verdict()).isEqualTo(Verdict.REJECT);
      assertThat(d.via()).isEqualTo(Decision.VIA_DEADLINE);
      assertThat(d.comment()).isEqualTo("nobody decided within 2h");
    });
    assertThat(Duration.between(result.startedAt(), result.endedAt())).isGreaterThanOrEqualTo(Duration.ofHours(2));
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void preflightFailure_failsTheRunWithItsTypeAndRunsNothingElse() {
    databases.preflightFailure =
        ApplicationFailure.newNonRetryableFailure(
            "source (env:FERRY_SOURCE_URL → ferry@127.0.0.1:1/shop): connection refused",
            Errors.DATABASE_UNREACHABLE);
    MigrationWorkflow run = start(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
              assertThat(f.getOriginalMessage()).contains("preflight", "source", "connection refused");
            });
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.FAILED);
    assertThat(step(status, "preflight").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "gate:start").state()).isEqualTo(StepState.SKIPPED);
    assertThat(step(status, "discard-snapshot").state()).isEqualTo(StepState.SKIPPED);
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void unreachableDatabase_preflightRetriesAFewTimesThenFails() {
    databases.preflightFailure =
        ApplicationFailure.newFailure(
            "target (env:FERRY_TARGET_URL → ferry@10.0.0.9:5432/shop): cannot connect: Connection refused",
            Errors.DATABASE_UNREACHABLE);
    MigrationWorkflow run = start(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);

    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.FAILED);
    assertThat(status.failure()).startsWith("preflight: target (env:FERRY_TARGET_URL");
    assertThat(databases.calls()).containsOnly("auditDatabases").hasSize(4);
  }

  @Test
  void restoreFailure_failsTheRunAndStillDiscardsTheSnapshot() {
    databases.restoreFailure =
        ApplicationFailure.newNonRetryableFailure(
            "pg_restore stopped: ERROR: type \"citext\" does not exist", Errors.RESTORE_FAILED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run))
        .cause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.RESTORE_FAILED));
    RunStatus status = run.status();
    assertThat(status.failure()).isEqualTo("restore: pg_restore stopped: ERROR: type \"citext\" does not exist");
    assertThat(step(status, "restore").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "verify").state()).isEqualTo(StepState.SKIPPED);
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(step(status, "discard-snapshot").state()).isEqualTo(StepState.DONE);
    assertThat(databases.calls()).endsWith("unfreezeSource", "discardSnapshot /tmp/ferry/snapshots/3");
  }

  @Test
  void freezeFailure_failsTheRunTakesNoSnapshotAndUnfreezesWhatItMayHaveFrozen() {
    databases.freezeFailure =
        ApplicationFailure.newNonRetryableFailure(
            "source: cannot make the database read-only: must be owner of database shop", Errors.FREEZE_REFUSED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run))
        .cause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.FREEZE_REFUSED));
    RunStatus status = run.status();
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.SKIPPED);
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(databases.calls()).containsExactly("auditDatabases", "freezeSource", "unfreezeSource");
  }

  @Test
  void sequenceSyncFailure_failsTheRunAndUnfreezesTheSource() {
    databases.sequenceFailure =
        ApplicationFailure.newNonRetryableFailure("target lacks public.orders_id_seq", Errors.SEQUENCE_MISSING);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);
    RunStatus status = run.status();
    assertThat(status.failure()).isEqualTo("sync-sequences: target lacks public.orders_id_seq");
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(databases.calls()).endsWith("syncSequences", "unfreezeSource", "discardSnapshot /tmp/ferry/snapshots/3");
  }

  @Test
  void unfreezeThatFailsAfterAFailure_isNotedForAPersonAndTheDumpStillGoes() {
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
    databases.unfreezeFailure = ApplicationFailure.newNonRetryableFailure("source: permission denied", Errors.FREEZE_REFUSED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);
    RunStatus status = run.status();
    assertThat(status.failure()).isEqualTo("restore: pg_restore stopped");
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.FAILED);
    assertThat(status.notes()).anySatisfy(n -> assertThat(n).contains("could not make the source writable again", "by hand"));
    assertThat(step(status, "discard-snapshot").state()).isEqualTo(StepState.DONE);
  }

  @Test
  void sourceReadOnlyBeforeTheRun_staysReadOnly() {
    databases.sourceReadOnly = true;
    MigrationWorkflow run = startApproved();

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(step(result, "unfreeze-source").state()).isEqualTo(StepState.SKIPPED);
    assertThat(databases.calls()).doesNotContain("unfreezeSource");
  }

  @Test
  void verificationMismatch_failsTheRunNamingTableChunkSequenceAndIndex() {
    databases.verification =
        VerificationReport.of(
            List.of(
                FakeDatabases.matching("public.customers", 5000),
                new TableComparison(
                    "public.orders", 20000, 19999, "primary key range", 4, 1,
                    List.of(new ChunkMismatch("id > 5000 and id <= 10000", 5000, 4999)), false),
                TableComparison.oneSided("sales.\"Refunds\"", 10, -1)),
            List.of(new SequenceComparison("public.orders_id_seq", 20001L, 19000L, false)),
            List.of(new SchemaDifference("index", "public.orders_placed_at_idx", "CREATE INDEX ...", null)));
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run))
        .cause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.VERIFICATION_FAILED);
              assertThat(f.getOriginalMessage())
                  .contains("public.orders: 1 of 4 chunk(s) differ")
                  .contains("id > 5000 and id <= 10000 [source 5000, target 4999 rows]")
                  .contains("sales.\"Refunds\": missing on target")
                  .contains("sequence public.orders_id_seq: behind on target (source next 20001, target next 19000)")
                  .contains("index public.orders_placed_at_idx missing on target");
            });
    RunStatus status = run.status();
    assertThat(status.verification().mismatches()).isEqualTo(4);
    assertThat(step(status, "verify").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "verify").detail()).startsWith("4 mismatch(es)");
    assertThat(step(status, "sync-sequences").state()).isEqualTo(StepState.SKIPPED);
    // The source takes writes again and the dump is gone.
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(step(status, "discard-snapshot").state()).isEqualTo(StepState.DONE);
  }

  @Test
  void cancellationDuringTheGate_endsCancelledAndRunsNothing() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    WorkflowStub.fromTyped(run).cancel();

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.CANCELLED);
    assertThat(status.pendingGate()).isNull();
    assertThat(step(status, "gate:start").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "gate:start").detail()).isEqualTo("cancelled");
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.SKIPPED);
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void cancellationDuringRestore_stillDiscardsTheSnapshot() throws Exception {
    databases.holdRestore();
    MigrationWorkflow run = startApproved();
    assertThat(databases.awaitRestoreStarted()).isTrue();

    WorkflowStub.fromTyped(run).cancel();

    try {
      assertThatThrownBy(() -> resultOf(run))
          .isInstanceOf(WorkflowFailedException.class)
          .hasCauseInstanceOf(CanceledFailure.class);
    } finally {
      databases.releaseRestore();
    }
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.CANCELLED);
    assertThat(step(status, "restore").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "unfreeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(step(status, "discard-snapshot").state()).isEqualTo(StepState.DONE);
  }

  @Test
  void snapshotHostThatStopsServing_makesFerryTakeANewSnapshotElsewhere() {
    databases.snapshotsOnHosts("ferry-host-gone");
    MigrationWorkflow run = startApproved();

    RunStatus result = resultOf(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(step(result, "snapshot").attempts()).isEqualTo(2);
    assertThat(result.snapshot().hostTaskQueue()).isEqualTo(FakeDatabases.HOST_QUEUE);
    assertThat(result.notes()).singleElement().asString().contains("ferry-host-gone", "new snapshot");
    Map<String, Long> counts =
        databases.calls().stream().collect(Collectors.groupingBy(c -> c.split(" ")[0], Collectors.counting()));
    assertThat(counts).containsEntry("dumpDatabase", 2L).containsEntry("restoreDatabase", 1L);
  }

  @Test
  void snapshotFilesMissingOnTheirHost_makeFerryTakeANewSnapshot() {
    databases.nextRestoreFailures.add(
        ApplicationFailure.newNonRetryableFailure("the snapshot /x is not on this host", Errors.SNAPSHOT_MISSING));
    MigrationWorkflow run = startApproved();

    RunStatus result = resultOf(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(step(result, "snapshot").attempts()).isEqualTo(2);
    assertThat(step(result, "restore").attempts()).isEqualTo(2);
    assertThat(result.notes()).singleElement().asString().contains("no longer has the snapshot");
  }

  @Test
  void snapshotFilesMissingEveryTime_failsAfterThreeSnapshots() {
    for (int i = 0; i < 3; i++) {
      databases.nextRestoreFailures.add(
          ApplicationFailure.newNonRetryableFailure("the snapshot /x is not on this host", Errors.SNAPSHOT_MISSING));
    }
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run))
        .cause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SNAPSHOT_MISSING));
    assertThat(step(run.status(), "snapshot").attempts()).isEqualTo(3);
  }

  private MigrationWorkflow start(Runbook runbook) {
    MigrationWorkflow run =
        client.newWorkflowStub(
            MigrationWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(QUEUE)
                .setWorkflowId("migration-shop-" + (++runs))
                .build());
    WorkflowClient.start(run::run, new MigrationRequest(runbook, OPERATOR));
    return run;
  }

  /** A shop run whose start gate the approver has opened. */
  private MigrationWorkflow startApproved() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");
    run.decide(approve("start", APPROVER));
    return run;
  }

  private static RunStatus awaitGate(MigrationWorkflow run, String gate) {
    return Eventually.get(
        "gate " + gate + " to open",
        run::status,
        s -> s.pendingGate() != null && s.pendingGate().gate().equals(gate));
  }

  private static RunStatus resultOf(MigrationWorkflow run) {
    return WorkflowStub.fromTyped(run).getResult(RunStatus.class);
  }

  private static GateDecision approve(String gate, String approver) {
    return new GateDecision(gate, Verdict.APPROVE, approver, "looks good");
  }

  private static StepStatus step(RunStatus status, String name) {
    return status.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  private static void assertRefused(Runnable decide, GateDecisionRefused.Reason reason) {
    assertThatThrownBy(decide::run)
        .isInstanceOf(WorkflowUpdateException.class)
        .satisfies(
            e -> assertThat(GateDecisionRefused.from(e)).hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo(reason)));
  }
}

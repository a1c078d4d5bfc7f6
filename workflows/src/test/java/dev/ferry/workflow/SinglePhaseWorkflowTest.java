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

/**
 * The single-phase migration under Temporal's time-skipping test server, with fake databases,
 * copied with pg_dump and pg_restore ({@code snapshot.method: dump}); {@link StreamCopyWorkflowTest}
 * covers the streaming copy.
 */
class SinglePhaseWorkflowTest extends WorkflowTestBase {
  @Test
  void approvedStartGate_runsEveryStepInOrderAndSucceeds() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
    awaitGate(run, "start");

    Decision decision = run.decide(approve("start", APPROVER));

    assertThat(decision.decidedBy()).isEqualTo(APPROVER);
    assertThat(decision.via()).isEqualTo(Decision.VIA_UPDATE);
    RunStatus atDecommission = awaitGate(run, "decommission");
    assertThat(atDecommission.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("last verification: 2 tables"))
        .anySatisfy(e -> assertThat(e).contains("may have taken writes since"))
        .anySatisfy(e -> assertThat(e).startsWith("reject: undo freeze-source"));
    assertThat(atDecommission.pointOfNoReturn()).isNotNull();
    RunStatus result = decommission(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.steps())
        .extracting(StepStatus::name, StepStatus::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("preflight", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("gate:start", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("lower-dns-ttl", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("freeze-source", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("maintenance-on", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("copy-config-vars", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("snapshot", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("restore", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("verify", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("sync-sequences", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("discard-snapshot", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("restore-point", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("shift-traffic", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("maintenance-off", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("gate:decommission", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("decommission", StepState.SKIPPED));
    assertThat(step(result, "shift-traffic").detail()).startsWith("Ferry does not move the traffic");
    assertThat(result.steps()).filteredOn(s -> s.state() != StepState.SKIPPED)
        .allSatisfy(s -> assertThat(s.durationMillis()).isNotNull());
    assertThat(result.verification().tables()).hasSize(2);
    assertThat(result.decisions()).first().isEqualTo(decision);
    assertThat(result.decisions()).extracting(Decision::gate).containsExactly("start", "decommission");
    assertThat(result.compensations()).isEmpty();
    // Every step, gate and decision went to the ledger, in order, numbered from 1.
    List<dev.ferry.model.RunEvent> events =
        databases.ledger.stream().sorted(java.util.Comparator.comparingLong(dev.ferry.model.RunEvent::seq)).toList();
    assertThat(events).extracting(dev.ferry.model.RunEvent::seq)
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
    assertThat(events.get(0).type()).isEqualTo(dev.ferry.model.RunEventType.STARTED);
    assertThat(events.get(0).actor()).isEqualTo(OPERATOR);
    assertThat(events).filteredOn(e -> e.type() == dev.ferry.model.RunEventType.DECISION)
        .extracting(dev.ferry.model.RunEvent::step, dev.ferry.model.RunEvent::actor)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("gate:start", APPROVER), org.assertj.core.groups.Tuple.tuple("gate:decommission", APPROVER));
    assertThat(events.get(events.size() - 1)).satisfies(e -> {
      assertThat(e.type()).isEqualTo(dev.ferry.model.RunEventType.FINISHED);
      assertThat(e.state()).isEqualTo(RunState.SUCCEEDED);
    });
    assertThat(result.pendingGate()).isNull();
    assertThat(databases.calls())
        .containsExactly(
            "auditDatabases",
            "freezeSource",
            "dumpDatabase",
            "restoreDatabase",
            "verifyDatabases",
            "syncSequences",
            "discardSnapshot /tmp/ferry/snapshots/3");
  }

  @Test
  void pendingGate_showsItsDeadlineAndApproversAndTouchesNothing() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());

    RunStatus status = awaitGate(run, "start");

    assertThat(status.state()).isEqualTo(RunState.AWAITING_APPROVAL);
    assertThat(status.phase()).isEqualTo("awaiting approval: start");
    assertThat(status.pendingGate().approvers()).containsExactly("arjun", "beatriz");
    assertThat(Duration.between(status.pendingGate().openedAt(), status.pendingGate().deadline()))
        .isEqualTo(Duration.ofHours(24));
    assertThat(Duration.between(status.pendingGate().openedAt(), status.pendingGate().remindAt()))
        .isEqualTo(Duration.ofHours(12));
    assertThat(status.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("plan: preflight → gate:start → freeze-source"))
        .anySatisfy(e -> assertThat(e).startsWith("source: ferry@heroku:5432/shop (PostgreSQL 15.20"));
    assertThat(status.pendingGate().evidenceDigest()).isEqualTo(dev.ferry.model.Evidence.digest(status.pendingGate().evidence()));
    assertThat(status.preflight().source().serverVersion()).isEqualTo("15.20");
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void rejectedStartGate_endsRejectedWithoutTouchingData() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
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
    assertThat(decommission(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void runbookAllowingSelfApproval_letsTheStarterApprove() {
    MigrationWorkflow run = start(Runbooks.shopWithStartGate("allowSelfApproval: true"));
    awaitGate(run, "start");

    run.decide(approve("start", OPERATOR));

    assertThat(decommission(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void approverNotListedInRunbook_refused() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("start", "mallory")), GateDecisionRefused.Reason.NOT_AN_APPROVER);
  }

  @Test
  void decisionForAGateThatIsNotPending_refused() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("cutover", APPROVER)), GateDecisionRefused.Reason.NOT_PENDING);
  }

  @Test
  void rejectionWithoutComment_refused() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
    awaitGate(run, "start");

    assertRefused(
        () -> run.decide(new GateDecision("start", Verdict.REJECT, APPROVER, " ")),
        GateDecisionRefused.Reason.COMMENT_REQUIRED);
  }

  @Test
  void decisionWithoutApprover_refused() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
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

    RunStatus result = decommission(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.decisions()).extracting(Decision::gate).containsExactly("start", "decommission");
    assertThat(result.refusedDecisions().get(0).reason()).startsWith("ALREADY_DECIDED");
  }

  @Test
  void signalFromTheStarter_isRefusedAndRecorded_signalFromAnApprover_opensTheGate() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
    awaitGate(run, "start");
    WorkflowStub stub = WorkflowStub.fromTyped(run);

    stub.signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", OPERATOR));
    RunStatus afterRefusal =
        Eventually.get("the starter's signal to be refused", run::status, s -> !s.refusedDecisions().isEmpty());
    assertThat(afterRefusal.pendingGate()).isNotNull();
    assertThat(afterRefusal.refusedDecisions().get(0).by()).isEqualTo(OPERATOR);

    stub.signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", "beatriz"));

    RunStatus result = decommission(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.decisions()).first().satisfies(d -> {
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
    assertThat(result.notes()).containsExactly("reminder: gate start is still waiting for a decision");
    assertThat(databases.calls()).containsExactly("auditDatabases");
  }

  @Test
  void preflightFailure_failsTheRunWithItsTypeAndRunsNothingElse() {
    databases.preflightFailure =
        ApplicationFailure.newNonRetryableFailure(
            "source (env:SHOP_SOURCE_URL → ferry@127.0.0.1:1/shop): connection refused",
            Errors.DATABASE_UNREACHABLE);
    MigrationWorkflow run = start(Runbooks.shopWithDump());

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
            "target (env:SHOP_TARGET_URL → ferry@10.0.0.9:5432/shop): cannot connect: Connection refused",
            Errors.DATABASE_UNREACHABLE);
    MigrationWorkflow run = start(Runbooks.shopWithDump());

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);

    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.FAILED);
    assertThat(status.failure()).startsWith("preflight: target (env:SHOP_TARGET_URL");
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
    // Undone newest first: the dump's files, then the freeze.
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "freeze-source").detail()).startsWith("undone: the source takes writes again");
    assertThat(databases.calls()).endsWith("discardSnapshot /tmp/ferry/snapshots/3", "unfreezeSource");
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
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "freeze-source").detail()).contains("it had: source: cannot make the database read-only");
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.SKIPPED);
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
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).endsWith("syncSequences", "discardSnapshot /tmp/ferry/snapshots/3", "unfreezeSource");
  }

  @Test
  void unfreezeThatFailsAfterAFailure_isNotedForAPersonAndTheDumpStillGoes() {
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
    databases.unfreezeFailure = ApplicationFailure.newNonRetryableFailure("source: permission denied", Errors.FREEZE_REFUSED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);
    RunStatus status = run.status();
    assertThat(status.failure()).isEqualTo("restore: pg_restore stopped");
    assertThat(status.notes()).anySatisfy(n -> assertThat(n).contains("could not undo freeze-source", "source: permission denied", "by hand"));
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.DONE);
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.COMPENSATED);
  }

  @Test
  void sourceReadOnlyBeforeTheRun_staysReadOnlyWhenTheRunIsUndone_butItsWriteFenceIsLifted() {
    databases.sourceReadOnly = true;
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);
    assertThat(step(run.status(), "freeze-source").detail())
        .startsWith("undone: the run's write fence is lifted; the source stays read-only, as it was before the run");
    assertThat(databases.calls()).contains("liftFence").doesNotContain("unfreezeSource");
  }

  @Test
  void sourceNotReadOnlyBeforeTheRun_isUnfrozenWhenTheRunIsUndone_fenceAndAll() {
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
    MigrationWorkflow run = startApproved();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class);
    assertThat(step(run.status(), "freeze-source").detail()).startsWith("undone: the source takes writes again");
    assertThat(databases.calls()).contains("unfreezeSource").doesNotContain("liftFence");
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
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.COMPENSATED);
  }

  @Test
  void cancellationDuringTheGate_endsCancelledAndRunsNothing() {
    MigrationWorkflow run = start(Runbooks.shopWithDump());
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
    // The ledger hears of the cancelled run's end too.
    assertThat(databases.ledger).anySatisfy(e -> {
      assertThat(e.type()).isEqualTo(dev.ferry.model.RunEventType.FINISHED);
      assertThat(e.state()).isEqualTo(RunState.CANCELLED);
    });
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
    assertThat(step(status, "snapshot").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).endsWith("discardSnapshot /tmp/ferry/snapshots/3", "unfreezeSource");
  }

  @Test
  void snapshotHostThatStopsServing_makesFerryTakeANewSnapshotElsewhere() {
    databases.snapshotsOnHosts("ferry-host-gone");
    MigrationWorkflow run = startApproved();

    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(step(result, "snapshot").attempts()).isEqualTo(2);
    assertThat(result.snapshot().hostTaskQueue()).isEqualTo(FakeDatabases.HOST_QUEUE);
    assertThat(result.notes()).filteredOn(n -> n.contains("snapshot")).singleElement().asString()
        .contains("ferry-host-gone", "new snapshot");
    Map<String, Long> counts =
        databases.calls().stream().collect(Collectors.groupingBy(c -> c.split(" ")[0], Collectors.counting()));
    assertThat(counts).containsEntry("dumpDatabase", 2L).containsEntry("restoreDatabase", 1L);
  }

  @Test
  void snapshotFilesMissingOnTheirHost_makeFerryTakeANewSnapshot() {
    databases.nextRestoreFailures.add(
        ApplicationFailure.newNonRetryableFailure("the snapshot /x is not on this host", Errors.SNAPSHOT_MISSING));
    MigrationWorkflow run = startApproved();

    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(step(result, "snapshot").attempts()).isEqualTo(2);
    assertThat(step(result, "restore").attempts()).isEqualTo(2);
    assertThat(result.notes()).filteredOn(n -> n.contains("snapshot")).singleElement().asString()
        .contains("no longer has the snapshot");
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

  private MigrationWorkflow startApproved() {
    return startApproved(Runbooks.shopWithDump());
  }
}

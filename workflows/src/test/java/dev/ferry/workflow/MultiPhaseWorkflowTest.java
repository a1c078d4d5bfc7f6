package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Decision;
import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import dev.ferry.model.Verdict;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The multi-phase migration (continuous sync, cutover gate, fallback window) with fake activities. */
class MultiPhaseWorkflowTest extends WorkflowTestBase {

  @Test
  void approvedRun_catchesUpCutsOverWaitsTheFallbackWindowAndDecommissions() {
    databases.lags.clear();
    databases.lags.addAll(List.of(120_000L, 45_000L, 5_000L));
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());

    RunStatus atCutover = awaitGateSkippingTime(run, "cutover");
    assertThat(atCutover.lag().lagMillis()).isEqualTo(5_000);
    assertThat(atCutover.sync().rows()).isEqualTo(101_500);
    assertThat(atCutover.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("lag when the gate opened: 50 change(s) pending, oldest 5.0 s old"))
        .anySatisfy(e -> assertThat(e).startsWith("reject: tear the sync down"));
    assertThat(step(atCutover, "catch-up").detail()).isEqualTo("50 change(s) pending, oldest 5.0 s old");
    assertThat(atCutover.compensations()).containsExactly("start-sync");
    // The trigger method's initial copy streams: capture first, the copy from a snapshot after it,
    // the capture trimmed to what the copy lacks, and only then the apply.
    assertThat(databases.calls())
        .filteredOn(c -> List.of("startSync", "holdSnapshot", "planCopy", "finishCopy", "adoptCopy", "endCopy",
            "applyChanges").contains(c.split(" ")[0]))
        .containsSubsequence("startSync", "planCopy 1", "finishCopy 1", "adoptCopy", "endCopy", "applyChanges")
        .contains("holdSnapshot 1");
    run.decide(approve("cutover", APPROVER));

    RunStatus atDecommission = awaitGateSkippingTime(run, "decommission");
    assertThat(step(atDecommission, "fallback-window").state()).isEqualTo(StepState.DONE);
    assertThat(step(atDecommission, "fallback-window").durationMillis()).isGreaterThanOrEqualTo(Duration.ofHours(72).toMillis());
    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.steps())
        .extracting(StepStatus::name, StepStatus::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("preflight", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("gate:start", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("start-sync", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("copy", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("catch-up", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("lower-dns-ttl", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("gate:cutover", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("freeze-source", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("maintenance-on", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("copy-config-vars", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("drain", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("sync-sequences", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("verify", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("restore-point", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("shift-traffic", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("maintenance-off", StepState.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("fallback-window", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("gate:decommission", StepState.DONE),
            org.assertj.core.groups.Tuple.tuple("decommission", StepState.DONE));
    assertThat(result.compensations()).isEmpty();
    // The copy's calls are checked above.
    List<String> copy = List.of("holdSnapshot", "planCopy", "copyTables", "finishCopy", "adoptCopy", "endCopy");
    assertThat(databases.calls())
        .filteredOn(c -> !c.equals("measureLag") && !c.equals("applyChanges") && !copy.contains(c.split(" ")[0]))
        .containsExactly(
            "auditDatabases",
            "notify gate-opened",
            "startSync",
            "notify gate-opened",
            "freezeSource",
            "drain",
            "syncSequences",
            "verifyDatabases",
            "notify gate-opened",
            "stopSync",
            "notify run-ended");
    assertThat(databases.calls()).filteredOn("measureLag"::equals).hasSize(3);
  }

  @Test
  void approvingTheCutover_stopsApplyingBeforeTheDrain() {
    // A cancellation reaches an activity with its next heartbeat the SDK sends, and the SDK
    // sends at most one per 80 % of the heartbeat timeout: shorten it so this takes seconds.
    restartWith(new Tuning(TUNING.hostWait(), Duration.ofSeconds(2), TUNING.lagPoll()));
    databases.holdApply = true;
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGate(run, "cutover");

    run.decide(approve("cutover", APPROVER));

    Eventually.get("the drain", databases::calls, c -> c.contains("drain"));
    assertThat(databases.calls()).containsSubsequence("applyChanges", "applyChanges cancelled", "drain");
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void schemaChangeWhileTheCutoverGateWaits_closesTheGateFailsTheRunAndTearsDown() {
    databases.holdApply = true;
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGate(run, "cutover");

    databases.applyFailure =
        ApplicationFailure.newNonRetryableFailure("the schema changed while syncing (1 change: new: column public.orders.gift boolean)", Errors.SCHEMA_CHANGED);

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SCHEMA_CHANGED);
          assertThat(f.getOriginalMessage()).contains("cutover", "the schema changed while syncing", "public.orders.gift");
        });
    RunStatus status = run.status();
    assertThat(step(status, "gate:cutover").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "gate:cutover").detail()).startsWith("closed without a decision: the schema changed while syncing");
    assertThat(step(status, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(status.pendingGate()).isNull();
    assertThat(databases.calls()).contains("stopSync").doesNotContain("freezeSource");
  }

  @Test
  void triggerSyncOfASourceWithKeylessTables_failsAtPreflightNamingThem_andChangesNothing() {
    databases.tablesWithoutPrimaryKey = List.of("public.audit_log", "public.events");

    MigrationWorkflow run = start(Runbooks.shopMultiPhase());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
          assertThat(f.getOriginalMessage()).contains("public.audit_log, public.events", "strategy single-phase");
        });
    assertThat(step(run.status(), "preflight").state()).isEqualTo(StepState.FAILED);
    assertThat(databases.calls()).containsOnly("auditDatabases", "notify run-ended");
  }

  @Test
  void rejectedCutover_tearsTheSyncDownAndNeverFreezes() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");

    run.decide(new GateDecision("cutover", Verdict.REJECT, "beatriz", "lag spikes at 9am"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(step(result, "gate:cutover").detail()).isEqualTo("rejected by beatriz: lag spikes at 9am");
    assertThat(step(result, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(result, "freeze-source").state()).isEqualTo(StepState.SKIPPED);
    assertThat(databases.calls()).contains("stopSync").doesNotContain("freezeSource");
  }

  @Test
  void cutoverGateDeadline_remindsThenRejectsAndTearsDown() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");

    RunStatus result = resultOf(run); // skips the 1h reminder and the 4h deadline

    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(result.decisions()).filteredOn(d -> d.gate().equals("cutover")).singleElement()
        .satisfies(d -> assertThat(d.via()).isEqualTo(Decision.VIA_DEADLINE));
    assertThat(result.notes()).contains("reminder: gate cutover is still waiting for a decision");
    assertThat(databases.calls()).containsSubsequence("notify gate-opened", "notify gate-reminder", "stopSync", "notify run-ended");
  }

  @Test
  void syncThatNeverCatchesUp_failsAtTheCatchUpTimeoutAndTearsDown() {
    databases.lags.clear();
    databases.lags.add(600_000L);
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SYNC_BEHIND);
          assertThat(f.getOriginalMessage()).contains("oldest 600.0 s old after 2h", "sync.maxLag is 30s");
        });
    assertThat(step(run.status(), "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).contains("stopSync");
  }

  @Test
  void cancellationAtTheCutoverGate_tearsTheSyncDown() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");

    WorkflowStub.fromTyped(run).cancel();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class).hasCauseInstanceOf(CanceledFailure.class);
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.CANCELLED);
    assertThat(status.pendingGate()).isNull();
    assertThat(step(status, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
  }

  @Test
  void decisionOnEvidenceThatChanged_isRefused_onCurrentEvidence_isRecordedWithItsDigest() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    RunStatus atCutover = awaitGateSkippingTime(run, "cutover");
    String digest = atCutover.pendingGate().evidenceDigest();

    assertRefused(
        () -> run.decide(new GateDecision("cutover", Verdict.APPROVE, APPROVER, "ok", "0".repeat(64))),
        GateDecisionRefused.Reason.STALE_EVIDENCE);
    Decision decision = run.decide(new GateDecision("cutover", Verdict.APPROVE, APPROVER, "ok", digest));

    assertThat(decision.evidenceDigest()).isEqualTo(digest);
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void rejectingDecommission_opensTheRollbackGateWhichSaysWhatIsLost_approvedItUndoesEverything() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");
    run.decide(approve("cutover", APPROVER));
    awaitGateSkippingTime(run, "decommission");

    run.decide(new GateDecision("decommission", Verdict.REJECT, APPROVER, "checkout errors on AWS"));

    RunStatus atRollback = awaitGate(run, "rollback");
    assertThat(atRollback.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).contains("may have taken writes since"))
        .anySatisfy(e -> assertThat(e).isEqualTo("rolling back loses those writes: nothing copies them back to the source"))
        .anySatisfy(e -> assertThat(e).isEqualTo("approve: undo freeze-source, start-sync (newest first)"));
    run.decide(approve("rollback", "beatriz"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(step(result, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(result, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).containsSubsequence("unfreezeSource", "stopSync");
  }

  @Test
  void rejectedRollback_undoesNothingAndSaysSo() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");
    run.decide(approve("cutover", APPROVER));
    awaitGateSkippingTime(run, "decommission");
    run.decide(new GateDecision("decommission", Verdict.REJECT, APPROVER, "not yet"));
    awaitGate(run, "rollback");

    run.decide(new GateDecision("rollback", Verdict.REJECT, "beatriz", "we fix forward"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(result.notes()).anySatisfy(n -> assertThat(n).startsWith("rollback rejected: nothing was undone"));
    assertThat(databases.calls()).doesNotContain("unfreezeSource", "stopSync");
  }
}

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
import dev.ferry.testing.FakeDatabases;
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
    assertThat(atCutover.compensations()).containsExactly("pre-verify", "start-sync");
    assertThat(atCutover.pendingGate().evidence())
        .contains(
            "pre-verification: 7 of 7 chunks proven (101500 rows of about 101500 in 5 tables), 12 changed row(s) awaiting their"
                + " re-check, the oldest for 4.0 s",
            "oldest proof: 2026-12-01T10:00:00Z (300 s before 2026-12-01T10:05:00Z); a proof stands until a row of its chunk"
                + " changes, and changed rows are re-checked one by one");
    assertThat(step(atCutover, "pre-verify").detail()).startsWith("7 of 7 chunks proven");
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
            org.assertj.core.groups.Tuple.tuple("pre-verify", StepState.DONE),
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
        .filteredOn(c -> !c.equals("measureLag") && !c.equals("applyChanges") && !c.equals("preverifyWhileSyncing")
            && !copy.contains(c.split(" ")[0]))
        .containsExactly(
            "auditDatabases",
            "checkSync",
            "notify gate-opened",
            "startSync",
            "measurePreverification",
            "measurePreverification",
            "notify gate-opened",
            "freezeSource",
            "drainWithSequences",
            "verifyChangedSincePreverified",
            "notify gate-opened",
            "dropPreverification",
            "stopSync",
            "notify run-ended");
    assertThat(step(result, "verify").detail())
        .isEqualTo("2 tables (25000 rows in 2 checksummed chunks), 1 sequences and the schema match; re-checked 12 changed row(s)"
            + " and 0 of 7 chunks (0 rows); the rest stood proven from before the freeze");
    assertThat(databases.calls()).filteredOn("measureLag"::equals).hasSize(3);
    // The drain set the sequences on its own sessions: no activity of their own in the freeze.
    assertThat(step(result, "sync-sequences").detail()).isEqualTo("1 set, 0 already current (at the end of the drain)");
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

    Eventually.get("the drain", databases::calls, c -> c.contains("drainWithSequences"));
    assertThat(databases.calls()).containsSubsequence("applyChanges", "applyChanges cancelled", "drainWithSequences");
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
  void everythingTheSyncMethodWouldRefuse_failsPreflightAtOnce_beforeTheStartGate_andChangesNothing() {
    databases.syncRefusals =
        List.of(
            "tables without a primary key: public.audit_log, public.events (add one, or migrate with strategy single-phase)",
            "the target's user may not set session_replication_role");

    MigrationWorkflow run = start(Runbooks.shopMultiPhase());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
          assertThat(f.isNonRetryable()).isTrue();
          assertThat(f.getOriginalMessage())
              .startsWith("preflight: sync.method trigger cannot run here: ")
              .contains("public.audit_log, public.events", "strategy single-phase", "session_replication_role");
        });
    assertThat(step(run.status(), "preflight").state()).isEqualTo(StepState.FAILED);
    assertThat(run.status().pendingGate()).isNull();
    assertThat(databases.calls()).containsOnly("auditDatabases", "checkSync", "notify run-ended");
  }

  @Test
  void theSyncChecksWarnings_areShownAtTheStartGate() {
    databases.syncWarnings = List.of("sync.replicationRole source-credential: the target keeps the source's password until the drain");

    MigrationWorkflow run = start(Runbooks.shopMultiPhase());
    RunStatus atStart = awaitGate(run, "start");

    assertThat(atStart.pendingGate().evidence())
        .contains("warning: sync.replicationRole source-credential: the target keeps the source's password until the drain");
    assertThat(atStart.preflight().warnings()).contains(databases.syncWarnings.get(0));
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void theLogicalSubscriptionsLogin_isTheRunbooksChoice_perRunByDefault() {
    String logical = Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical");
    MigrationWorkflow perRun = start(dev.ferry.model.runbook.RunbookParser.parse(logical));
    awaitGate(perRun, "start");
    WorkflowStub.fromTyped(perRun).cancel();
    // A runbook the parser never saw (a run started from the Temporal CLI) gets the default too.
    dev.ferry.model.runbook.Runbook parsed = dev.ferry.model.runbook.RunbookParser.parse(logical);
    MigrationWorkflow unparsed =
        start(
            new dev.ferry.model.runbook.Runbook(
                parsed.app(), parsed.strategy(), parsed.source(), parsed.target(), parsed.snapshot(), parsed.gates(),
                new dev.ferry.model.runbook.SyncSpec("logical", parsed.sync().maxLag(), parsed.sync().catchUpTimeout(), null),
                parsed.fallbackWindow(), parsed.notifications(), parsed.dns(), parsed.heroku(), parsed.configVars(), parsed.rds(),
                parsed.rehearsals()));
    awaitGate(unparsed, "start");
    WorkflowStub.fromTyped(unparsed).cancel();
    MigrationWorkflow trigger = start(Runbooks.shopMultiPhase());
    awaitGate(trigger, "start");
    WorkflowStub.fromTyped(trigger).cancel();

    assertThat(databases.syncRequests)
        .extracting(dev.ferry.model.sync.SyncRequest::replicationRole)
        .containsExactly("per-run", "per-run", null);
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
        .anySatisfy(e -> assertThat(e).isEqualTo("approve: undo freeze-source, pre-verify, start-sync (newest first)"));
    run.decide(approve("rollback", "beatriz"));

    RunStatus result = resultOf(run);
    assertThat(result.state()).isEqualTo(RunState.REJECTED);
    assertThat(step(result, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(result, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).containsSubsequence("unfreezeSource", "dropPreverification", "stopSync");
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

  @Test
  void preverification_theGateWaitsForItsFirstPassAndItsReChecksToCatchUp_andItStopsBeforeTheFreeze() {
    // The loop runs while the gate waits, so the test server cannot skip time: short polls, in
    // real time, and a short heartbeat timeout so the cancel reaches the loop soon.
    restartWith(new Tuning(TUNING.hostWait(), Duration.ofSeconds(2), Duration.ofMillis(100)));
    databases.holdPreverify = true;
    databases.holdApply = true;
    databases.coverages.clear();
    // The first pass done, 6,000 changed rows' re-checks still 50 s behind (sync.maxLag is 30s), then caught up.
    databases.coverages.addAll(
        List.of(
            FakeDatabases.coverage(7, 2, 2),
            FakeDatabases.coverage(7, 6, 5),
            FakeDatabases.coverage(7, 7, 6, 6_000, 50_000),
            FakeDatabases.coverage(7, 7, 6)));
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());

    RunStatus atCutover = awaitGate(run, "cutover");
    assertThat(step(atCutover, "pre-verify").detail()).startsWith("6 of 7 chunks proven");
    assertThat(databases.calls()).filteredOn("measurePreverification"::equals).hasSize(5);
    assertThat(atCutover.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("at the freeze the final verify re-checks 1 unproven chunk(s)"));
    run.decide(approve("cutover", APPROVER));

    // The drain comes after the freeze: wait for it, not only for the freeze, before asserting the order.
    Eventually.get("the drain", databases::calls, c -> c.contains("drainWithSequences"));
    // Both background activities stopped before the freeze: their cancels do not count in the downtime.
    assertThat(databases.calls()).containsSubsequence("preverifyWhileSyncing cancelled", "freezeSource");
    assertThat(databases.calls()).containsSubsequence("applyChanges cancelled", "freezeSource", "drainWithSequences");
    assertThat(databases.preverifyRequests).hasSize(1);
    assertThat(databases.preverifyRequests.get(0).sync().method()).isEqualTo("trigger");
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void hotRowsThatNeverSettle_doNotKeepTheGateShut_whenFewAreLeftForTheFreeze() {
    restartWith(new Tuning(TUNING.hostWait(), Duration.ofSeconds(2), Duration.ofMillis(100)));
    databases.holdPreverify = true;
    databases.holdApply = true;
    databases.coverages.clear();
    // A counter row updated many times a second: its re-check never settles, so 12 changed rows
    // have waited two minutes, far past sync.maxLag (30s); the freeze re-checks them in no time.
    databases.coverages.add(FakeDatabases.coverage(7, 7, 7, 12, 120_000));
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());

    RunStatus atCutover = awaitGate(run, "cutover");

    assertThat(step(atCutover, "pre-verify").detail()).isEqualTo(
        "7 of 7 chunks proven (101500 rows of about 101500 in 5 tables), 12 changed row(s) awaiting their re-check, the oldest for 120.0 s");
    assertThat(databases.calls()).filteredOn("measurePreverification"::equals).hasSize(2);
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void twoRunsOnAWorkerWithFourSlots_bothReachTheCutover_theirLoopsOnTheLoopQueue() {
    // Each run holds two loops until its cutover (apply, pre-verification). On one queue with four
    // slots, two runs' four loops left none for their steps, and both stopped at pre-verify.
    restartWith(new Tuning(TUNING.hostWait(), Duration.ofSeconds(2), Duration.ofMillis(100)), 4);
    databases.holdPreverify = true;
    databases.holdApply = true;
    MigrationWorkflow first = startApproved(Runbooks.shopMultiPhase());
    MigrationWorkflow second = startApproved(Runbooks.shopMultiPhase());

    awaitGate(first, "cutover");
    awaitGate(second, "cutover");

    // Each run's streamed initial copy held a loop slot for its snapshot's holder, freed once
    // the holder's cancellation lands (with its next heartbeat): a loop may start just after.
    Eventually.get("both runs' apply loops and pre-verifications to run", databases::calls,
        calls -> calls.stream().filter("applyChanges"::equals).count() == 2
            && calls.stream().filter("preverifyWhileSyncing"::equals).count() == 2);
    assertThat(databases.calls()).filteredOn("applyChanges"::equals).hasSize(2);
    assertThat(databases.calls()).filteredOn("preverifyWhileSyncing"::equals).hasSize(2);
    assertThat(scheduledOn(first))
        .containsEntry("ApplyChanges", "ferry-loops")
        .containsEntry("PreverifyWhileSyncing", "ferry-loops")
        .containsEntry("MeasurePreverification", "ferry")
        .containsEntry("MeasureLag", "ferry");
    WorkflowStub.fromTyped(first).cancel();
    WorkflowStub.fromTyped(second).cancel();
  }

  @Test
  void preverificationThatProvesADifference_closesTheCutoverGateFailsTheRunAndTearsDown() {
    databases.holdPreverify = true;
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGate(run, "cutover");

    databases.preverifyFailure =
        ApplicationFailure.newNonRetryableFailure(
            "public.orders: the row with id = 42 differs between source and target in 3 comparisons", Errors.VERIFICATION_FAILED);

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.VERIFICATION_FAILED);
          assertThat(f.getOriginalMessage()).contains("cutover", "public.orders", "id = 42");
        });
    RunStatus status = run.status();
    assertThat(step(status, "gate:cutover").state()).isEqualTo(StepState.FAILED);
    assertThat(step(status, "pre-verify").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "start-sync").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(databases.calls()).containsSubsequence("dropPreverification", "stopSync").doesNotContain("freezeSource");
  }

  @Test
  void finalVerifyThatFindsADifference_failsTheRunNamingIt_andRollsBack() {
    databases.verification =
        dev.ferry.model.database.VerificationReport.of(
            List.of(
                new dev.ferry.model.database.TableComparison(
                    "public.products", 500, 500, "primary key range, pre-verified", 1, 1,
                    List.of(new dev.ferry.model.database.ChunkMismatch("id = 7", -1, -1)), false)),
            List.of(),
            List.of());
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhase());
    awaitGateSkippingTime(run, "cutover");
    run.decide(approve("cutover", APPROVER));

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.VERIFICATION_FAILED);
          assertThat(f.getOriginalMessage()).contains("public.products", "id = 7");
        });
    RunStatus status = run.status();
    assertThat(step(status, "verify").state()).isEqualTo(StepState.FAILED);
    assertThat(databases.calls()).containsSubsequence("verifyChangedSincePreverified", "unfreezeSource", "dropPreverification", "stopSync");
  }
}

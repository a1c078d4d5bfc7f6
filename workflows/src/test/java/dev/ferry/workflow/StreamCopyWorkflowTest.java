package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The single-phase run with the streaming copy ({@code snapshot.method: stream}, the default),
 * under Temporal's time-skipping test server with fake activities: the step order, a lost
 * snapshot, a source that refuses snapshots, a chunk that keeps differing, a cancellation, and
 * what the copy's compensation undoes.
 */
class StreamCopyWorkflowTest extends WorkflowTestBase {
  /** The calls of the copy and around it; the copiers run at once, in either order. */
  private List<String> copyCalls() {
    return databases.calls().stream()
        .filter(c -> !c.startsWith("copyTables") && !c.startsWith("notify"))
        .filter(c -> List.of("freezeSource", "holdSnapshot", "planCopy", "finishCopy", "verifyCopy", "endCopy",
            "syncSequences", "unfreezeSource", "dumpDatabase", "restoreDatabase", "verifyDatabases").contains(c.split(" ")[0]))
        .toList();
  }

  @Test
  void approvedRun_copiesVerifiesAndDropsTheBookkeeping_inOrder_withOneCopierPerJob() {
    MigrationWorkflow run = startApproved(Runbooks.shop());

    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.steps()).extracting(StepStatus::name).containsExactlyElementsOf(Steps.SINGLE_PHASE_STREAM);
    assertThat(step(result, "copy").state()).isEqualTo(StepState.DONE);
    assertThat(step(result, "copy").detail())
        .isEqualTo("2 tables, 25000 rows, 976.6 KiB streamed in 3 chunks, each table checked as it landed; 2 indexes built alongside");
    assertThat(step(result, "verify").detail()).contains("2 tables");
    assertThat(copyCalls())
        .containsSubsequence("freezeSource", "planCopy 1", "finishCopy 1", "verifyCopy", "endCopy", "syncSequences")
        .contains("holdSnapshot 1")
        .doesNotContain("dumpDatabase", "restoreDatabase", "verifyDatabases", "holdSnapshot 2");
    // snapshot.jobs: 2 → two copiers, on whichever workers take them.
    assertThat(databases.calls()).filteredOn(c -> c.startsWith("copyTables")).containsExactlyInAnyOrder("copyTables 1/1", "copyTables 1/2");
    assertThat(result.restore().tables()).isEqualTo(2);
    assertThat(result.snapshot()).isNull();
    assertThat(result.compensations()).isEmpty();
  }

  @Test
  void aWorkerWithOneActivitySlot_finishesTheCopy_theSnapshotHolderOnTheLoopQueue() {
    // The holder lasts as long as the copy. On the shared queue it took the only slot, and the
    // plan and the copiers waited for it until the holder's start-to-close timeout lost the snapshot.
    restartWith(TUNING, 1);
    MigrationWorkflow run = startApproved(Runbooks.shop());

    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(scheduledOn(run))
        .containsEntry("HoldSnapshot", "ferry-loops")
        .containsEntry("PlanCopy", "ferry")
        .containsEntry("CopyTables", "ferry")
        .containsEntry("FinishCopy", "ferry")
        .containsEntry("VerifyCopy", "ferry");
    assertThat(copyCalls()).contains("holdSnapshot 1").doesNotContain("holdSnapshot 2");
  }

  @Test
  void snapshotLost_copyGoesOnFromANewSnapshot_andTheRunSaysSo() {
    databases.snapshotsLost = 1;
    MigrationWorkflow run = startApproved(Runbooks.shop());

    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(copyCalls())
        .containsSubsequence("planCopy 1", "planCopy 2", "finishCopy 2", "verifyCopy", "endCopy")
        .contains("holdSnapshot 1", "holdSnapshot 2")
        .doesNotContain("finishCopy 1");
    assertThat(databases.calls()).filteredOn(c -> c.startsWith("copyTables 2/")).hasSize(2);
    assertThat(result.notes())
        .anySatisfy(n -> assertThat(n).startsWith("the copy's snapshot 1 was lost (").contains("the session holding the copy's snapshot ended"))
        .anySatisfy(n -> assertThat(n).isEqualTo("copy from snapshot 2: 1 table(s) kept from the lost snapshot, 1 started again"));
    assertThat(step(result, "copy").detail()).contains("snapshot lost");
  }

  @Test
  void snapshotLostAgainAndAgain_failsAfterThreeSnapshots_andUndoesTheCopy() {
    databases.snapshotsLost = 3;
    MigrationWorkflow run = startApproved(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SNAPSHOT_LOST);
          assertThat(f.getOriginalMessage()).startsWith("copy: the copy's snapshot was lost 3 times");
        });
    RunStatus status = run.status();
    assertThat(databases.calls()).contains("holdSnapshot 3").doesNotContain("holdSnapshot 4", "finishCopy 3");
    assertThat(step(status, "copy").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(copyCalls()).endsWith("endCopy", "unfreezeSource");
  }

  @Test
  void sourceThatRefusesSnapshots_failsAtOnce_suggestingTheDumpMethod() {
    databases.holdFailure =
        ApplicationFailure.newNonRetryableFailure(
            "source refuses to export a snapshot; Migrate with snapshot.method: dump", Errors.SNAPSHOT_REFUSED);
    MigrationWorkflow run = startApproved(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SNAPSHOT_REFUSED));
    RunStatus status = run.status();
    assertThat(status.failure()).contains("snapshot.method: dump");
    assertThat(databases.calls()).contains("holdSnapshot 1").doesNotContain("holdSnapshot 2", "finishCopy 1");
    assertThat(copyCalls()).endsWith("endCopy", "unfreezeSource");
  }

  @Test
  void chunkThatKeepsDiffering_failsTheRun_namingTableAndKeyRange() {
    databases.copyFailure =
        ApplicationFailure.newNonRetryableFailure(
            "public.orders: rows differ on the target after 3 copies: id > 10000 and id <= 20000 (sent 10000 rows, the"
                + " target holds 10000)",
            Errors.VERIFICATION_FAILED);
    MigrationWorkflow run = startApproved(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.VERIFICATION_FAILED));
    RunStatus status = run.status();
    assertThat(status.failure()).startsWith("copy: ").contains("public.orders", "id > 10000 and id <= 20000");
    assertThat(step(status, "copy").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(step(status, "freeze-source").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(copyCalls()).endsWith("endCopy", "unfreezeSource").doesNotContain("finishCopy 1");
  }

  @Test
  void verificationThatFindsADifference_failsTheRun_andUndoesTheCopy() {
    databases.verification =
        VerificationReport.of(
            List.of(TableComparison.oneSided("public.refunds", 12, -1)), List.of(), List.of(),
            "streamed and read back");
    MigrationWorkflow run = startApproved(Runbooks.shop());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.VERIFICATION_FAILED));
    RunStatus status = run.status();
    assertThat(status.verification().problems()).containsExactly("public.refunds: missing on target");
    assertThat(step(status, "verify").state()).isEqualTo(StepState.FAILED);
    assertThat(copyCalls()).endsWith("verifyCopy", "endCopy", "unfreezeSource");
  }

  @Test
  void cancelledWhileCopying_endsTheCopysSessionsAndUnfreezes() {
    databases.holdCopiers = true;
    MigrationWorkflow run = startApproved(Runbooks.shop());
    Eventually.get("the copiers at work", databases::calls, calls -> calls.contains("copyTables 1/1") && calls.contains("copyTables 1/2"));

    WorkflowStub.fromTyped(run).cancel();

    assertThatThrownBy(() -> resultOf(run)).isInstanceOf(WorkflowFailedException.class).hasCauseInstanceOf(CanceledFailure.class);
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.CANCELLED);
    assertThat(step(status, "copy").state()).isEqualTo(StepState.COMPENSATED);
    assertThat(status.steps()).filteredOn(s -> s.state() == StepState.COMPENSATED).extracting(StepStatus::detail)
        .anySatisfy(d -> assertThat(d).contains("the copy's sessions ended on both sides"));
    assertThat(copyCalls()).endsWith("endCopy", "unfreezeSource");
  }

  @Test
  void dumpMethod_keepsPgDumpAndPgRestore() {
    MigrationWorkflow run = startApproved(Runbooks.shopWithDump());

    RunStatus result = decommission(run);

    assertThat(result.steps()).extracting(StepStatus::name).containsExactlyElementsOf(Steps.SINGLE_PHASE);
    assertThat(copyCalls()).contains("dumpDatabase", "restoreDatabase", "verifyDatabases").doesNotContain("holdSnapshot 1");
  }

  @Test
  void multiPhaseWithTheDumpMethod_copiesInsideStartSyncAsBefore() {
    MigrationWorkflow run = startApproved(Runbooks.shopMultiPhaseWithDump());
    awaitGateSkippingTime(run, "cutover");

    assertThat(run.status().steps()).extracting(StepStatus::name).containsExactlyElementsOf(Steps.MULTI_PHASE);
    assertThat(databases.calls()).contains("startSync").doesNotContain("holdSnapshot 1", "adoptCopy");
    WorkflowStub.fromTyped(run).cancel();
  }
}

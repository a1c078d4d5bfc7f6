package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowFailedException;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A single-phase run with every provider of the cutover edge configured (fakes for each). */
class CutoverEdgeWorkflowTest extends WorkflowTestBase {

  @Test
  void everyProviderConfigured_runsTheEdgeInOrder_andDecommissionScalesHerokuDown() {
    MigrationWorkflow run = startApproved(Runbooks.shopWithEdge());

    RunStatus atDecommission = awaitGateSkippingTime(run, "decommission");
    assertThat(atDecommission.notes()).anySatisfy(n -> assertThat(n).contains("point of no return", "traffic started moving to AWS (10 %)"));
    assertThat(atDecommission.pendingGate().evidence()).anySatisfy(e -> assertThat(e).isEqualTo("approve: Heroku's dynos are scaled to zero"));
    RunStatus result = decommission(run);

    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.steps()).extracting(StepStatus::state).containsOnly(StepState.DONE);
    assertThat(step(result, "lower-dns-ttl").detail()).isEqualTo("TTL 1m; waited out the old TTL of 1h");
    assertThat(step(result, "lower-dns-ttl").durationMillis()).isGreaterThanOrEqualTo(Duration.ofHours(1).toMillis());
    // The copiers run at once, in either order: only that they ran is checked here.
    assertThat(databases.calls()).contains("holdSnapshot 1", "copyTables 1/1", "copyTables 1/2");
    assertThat(databases.calls())
        .filteredOn(c -> !c.startsWith("notify") && !c.startsWith("copyTables") && !c.startsWith("holdSnapshot"))
        .containsExactly(
            "auditDatabases",
            "readRecords",
            "lowerTtl 60",
            "freezeSource",
            "setMaintenance true",
            "copyConfigVarsToSsm",
            "verifyConfigVarsInSsm",
            "planCopy 1",
            "finishCopy 1",
            "verifyCopy",
            "endCopy",
            "syncSequences",
            "createRestorePoint",
            "setWeights 10",
            "runSmokeChecks",
            "setWeights 50",
            "runSmokeChecks",
            "setWeights 100",
            "runSmokeChecks",
            "setMaintenance false",
            "setWeights 100",
            "readFormation",
            "scaleFormation 0");
  }

  @Test
  void failedSmokeCheckMidShift_movesTrafficBackAtOnce_thenTheRollbackGateDecidesTheRest() {
    edge.smokeFailsFromWeight = 50;
    MigrationWorkflow run = startApproved(Runbooks.shopWithEdge());

    RunStatus atRollback = awaitGateSkippingTime(run, "rollback");
    assertThat(databases.calls()).containsSubsequence("setWeights 10", "runSmokeChecks", "setWeights 50", "runSmokeChecks", "restoreRecords");
    assertThat(step(atRollback, "shift-traffic").state()).isEqualTo(StepState.FAILED);
    assertThat(step(atRollback, "shift-traffic").detail()).contains("smoke checks failed at 50 % to AWS", "all traffic is back on Heroku");
    assertThat(atRollback.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).contains("traffic started moving to AWS (10 %)"))
        .anySatisfy(e -> assertThat(e).isEqualTo("approve: undo maintenance-on, freeze-source, lower-dns-ttl (newest first)"));
    run.decide(approve("rollback", APPROVER));

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SMOKE_CHECKS_FAILED));
    // Traffic went back at once; the rest, newest first, only after the rollback gate.
    assertThat(databases.calls())
        .endsWith("runSmokeChecks", "restoreRecords", "setMaintenance false", "unfreezeSource", "restoreRecords");
    assertThat(run.status().state()).isEqualTo(RunState.FAILED);
  }

  @Test
  void configVarMissingInSsm_failsBeforeTheCopyAndUndoesWithoutAGate() {
    edge.configVarsIncomplete = true;
    MigrationWorkflow run = startApproved(Runbooks.shopWithEdge());

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.CONFIG_VARS_MISMATCH));
    RunStatus status = run.status();
    assertThat(status.pointOfNoReturn()).isNull();
    assertThat(databases.calls()).doesNotContain("holdSnapshot 1", "dumpDatabase", "setWeights 10");
    assertThat(databases.calls()).endsWith("setMaintenance false", "unfreezeSource", "restoreRecords");
    assertThat(status.steps()).filteredOn(s -> s.state() == StepState.COMPENSATED).extracting(StepStatus::name)
        .containsExactly("lower-dns-ttl", "freeze-source", "maintenance-on");
  }
}

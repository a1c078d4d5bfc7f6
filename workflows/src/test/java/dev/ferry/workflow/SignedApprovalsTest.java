package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.Decision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.RunStatus;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowStub;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** With approval keys, only decisions the API signed open a gate. */
class SignedApprovalsTest extends WorkflowTestBase {
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private final ApprovalKeys keys = ApprovalKeys.of(List.of(KEY));

  @BeforeEach
  void withKeys() {
    restartWith(TUNING, keys);
  }

  @Test
  void unsignedUpdateAndSignalAreRefused_aSignedDecisionOpensTheGate() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(() -> run.decide(approve("start", APPROVER)), GateDecisionRefused.Reason.UNSIGNED);
    WorkflowStub.fromTyped(run).signal(MigrationWorkflow.DECISION_SIGNAL, approve("start", "beatriz"));
    RunStatus afterSignal = Eventually.get("the forged signal to be refused", run::status, s -> !s.refusedDecisions().isEmpty());
    assertThat(afterSignal.refusedDecisions().get(0).reason()).startsWith("UNSIGNED");
    assertThat(afterSignal.pendingGate().gate()).isEqualTo("start");

    Decision decision = run.decide(keys.sign("migration-shop-1", approve("start", APPROVER), null, Instant.parse("2026-11-22T17:00:00Z")));

    assertThat(decision.decidedBy()).isEqualTo(APPROVER);
    WorkflowStub.fromTyped(run).cancel();
  }

  @Test
  void aSignatureForAnotherRun_isRefused() {
    MigrationWorkflow run = start(Runbooks.shop());
    awaitGate(run, "start");

    assertRefused(
        () -> run.decide(keys.sign("migration-shop-999", approve("start", APPROVER), null, Instant.EPOCH)),
        GateDecisionRefused.Reason.UNSIGNED);
    WorkflowStub.fromTyped(run).cancel();
  }
}

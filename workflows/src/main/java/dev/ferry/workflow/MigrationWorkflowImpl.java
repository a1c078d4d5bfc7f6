package dev.ferry.workflow;

import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.Decision;
import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.runbook.Strategy;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import org.slf4j.Logger;

/**
 * Runs a migration by its runbook's strategy ({@link SinglePhase} or {@link MultiPhase}), and
 * ends it: on failure, rejection or cancellation every step that changed the world is undone,
 * newest first, in a scope the cancellation does not reach (past the point of no return, only
 * after the rollback gate approves). Only {@code ApplicationFailure} (and the cancellation
 * itself) leaves this class.
 */
public class MigrationWorkflowImpl implements MigrationWorkflow {
  private static final Logger log = Workflow.getLogger(MigrationWorkflowImpl.class);

  private final Tuning tuning;
  private final ApprovalKeys keys;
  private Migration migration;

  public MigrationWorkflowImpl() {
    this(Tuning.DEFAULT, ApprovalKeys.none());
  }

  public MigrationWorkflowImpl(Tuning tuning) {
    this(tuning, ApprovalKeys.none());
  }

  /**
   * @param keys the API's approval keys, which live in the worker's memory only (never in
   *     history); with any, a gate accepts only decisions the API signed
   */
  public MigrationWorkflowImpl(Tuning tuning, ApprovalKeys keys) {
    this.tuning = tuning;
    this.keys = keys;
  }

  @Override
  public RunStatus run(MigrationRequest request) {
    Migration m = new Migration(request, tuning, keys);
    migration = m;
    // Search attributes (FerryApp, FerryPhase, ...): only on runs begun with them (RunPhase.VERSION).
    RunPhase.publish(m.record, RunKind.MIGRATION, request.runbook());
    m.event(RunEventType.STARTED, null, request.startedBy(), request.runbook().strategy().label(), null);
    try {
      if (request.runbook().strategy() == Strategy.MULTI_PHASE) {
        new MultiPhase(m).run();
      } else {
        new SinglePhase(m).run();
      }
      m.record.finish(RunState.SUCCEEDED, Migration.now(), null);
      m.tell("run-ended", "run " + m.runId() + " (" + m.runbook.app() + ") succeeded");
      finished(m, null);
      return status();
    } catch (TemporalFailure e) {
      boolean cancelled = CancellationScope.current().isCancelRequested();
      boolean rejected = !cancelled && Errors.REJECTED.equals(Failures.type(e));
      String why = cancelled ? "the run was cancelled" : rejected ? Failures.describe(e) : m.record.phase() + ": " + Failures.describe(e);
      m.record.interruptRunning(Migration.now(), cancelled ? "cancelled" : Failures.describe(e));
      Workflow.newDetachedCancellationScope(() -> m.rollBack(why)).run();
      m.record.skipRemaining(cancelled ? "the run was cancelled" : rejected ? "the run was rejected" : "an earlier step failed");
      if (cancelled) {
        m.record.finish(RunState.CANCELLED, Migration.now(), null);
        Workflow.newDetachedCancellationScope(() -> finished(m, "cancelled")).run();
        throw e instanceof CanceledFailure ? e : new CanceledFailure("the run was cancelled");
      }
      if (rejected) {
        m.record.finish(RunState.REJECTED, Migration.now(), null);
        m.tell("run-ended", "run " + m.runId() + " (" + m.runbook.app() + ") was rejected");
        finished(m, why);
        return status();
      }
      m.record.finish(RunState.FAILED, Migration.now(), why);
      log.error("run failed: {}", why);
      m.tell("run-ended", "run " + m.runId() + " (" + m.runbook.app() + ") failed: " + why);
      finished(m, why);
      throw ApplicationFailure.newNonRetryableFailureWithCause(why, Failures.type(e), e);
    }
  }

  /** The last ledger event, and the wait for every event still on its way. */
  private static void finished(Migration m, String detail) {
    m.event(RunEventType.FINISHED, null, null, detail, null);
    m.flushEvents();
  }

  @Override
  public RunStatus status() {
    return migration == null ? null : migration.status(null);
  }

  @Override
  public Decision decide(GateDecision decision) {
    return migration.gates.accept(decision, Decision.VIA_UPDATE);
  }

  @Override
  public void validateDecide(GateDecision decision) {
    if (migration == null) {
      throw new GateDecisionRefused(GateDecisionRefused.Reason.NOT_PENDING, "the run has not started yet");
    }
    migration.gates.validate(decision);
  }

  @Override
  public void decision(GateDecision decision) {
    if (migration != null) {
      migration.gates.acceptSignal(decision);
    }
  }
}

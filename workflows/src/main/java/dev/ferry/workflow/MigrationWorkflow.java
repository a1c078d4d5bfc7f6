package dev.ferry.workflow;

import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One app's migration from Heroku PostgreSQL to its AWS target, as its runbook describes.
 *
 * <p>Workflow type {@code MigrationWorkflow}; the API names runs {@code migration-<app>-<8 hex>}.
 * From the Temporal UI or CLI:
 *
 * <ul>
 *   <li>query {@code status}: the run's {@link RunStatus};
 *   <li>signal {@code decision} with a {@link GateDecision}, e.g. {@code
 *       {"gate":"start","verdict":"APPROVE","approver":"arjun","comment":"go"}}; a refused
 *       decision is ignored and listed under {@code refusedDecisions};
 *   <li>update {@code decide}, the same payload, refused at once (nothing in history) when the
 *       gate is not pending, already decided, the approver started the run or is not listed.
 * </ul>
 */
@WorkflowInterface
public interface MigrationWorkflow {
  String STATUS_QUERY = "status";
  String DECIDE_UPDATE = "decide";
  String DECISION_SIGNAL = "decision";

  /**
   * Runs the migration. Returns the final status when it succeeded or a gate rejected it; fails
   * with the failing step's error type (see {@code Errors}) otherwise.
   */
  @WorkflowMethod
  RunStatus run(MigrationRequest request);

  @QueryMethod(name = STATUS_QUERY)
  RunStatus status();

  /** Decides the pending gate; returns the decision as recorded. */
  @UpdateMethod(name = DECIDE_UPDATE)
  Decision decide(GateDecision decision);

  @UpdateValidatorMethod(updateName = DECIDE_UPDATE)
  void validateDecide(GateDecision decision);

  /** Decides the pending gate, for clients that can only signal (Temporal UI, tctl). */
  @SignalMethod(name = DECISION_SIGNAL)
  void decision(GateDecision decision);
}

package dev.ferry.workflow;

import dev.ferry.model.RunStatus;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * A rehearsal of one app's cutover: snapshot (or the newest one), restore into a scratch
 * database on the target's server, verify, time every phase and estimate the cutover's
 * write-downtime. Never touches DNS, Heroku or the production target database.
 *
 * <p>Workflow type {@code RehearsalWorkflow}; runs are named {@code rehearsal-<app>-<8 hex>}.
 */
@WorkflowInterface
public interface RehearsalWorkflow {
  String STATUS_QUERY = "status";

  /** Runs the rehearsal; the report says how it went, also when a phase failed. */
  @WorkflowMethod
  RehearsalReport rehearse(RehearsalRequest request);

  @QueryMethod(name = STATUS_QUERY)
  RunStatus status();
}

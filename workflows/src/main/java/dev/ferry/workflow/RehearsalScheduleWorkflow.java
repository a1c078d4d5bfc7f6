package dev.ferry.workflow;

import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleMemory;
import dev.ferry.model.schedule.ScheduleStatus;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * A rehearsal schedule kept by a workflow, for Temporal servers without the Schedule API (the
 * embedded Java test server). One workflow per schedule, id {@code schedule-<app>-<8 hex>} (the
 * schedule's id): it sleeps on a durable timer until the next fire time of its cron expression
 * or interval, then starts a {@link RehearsalWorkflow} as an abandoned child (it outlives the
 * schedule), unless a rehearsal it started, or any migration or rehearsal of the app, is still
 * running: then it skips that fire and records why.
 *
 * <p>From the Temporal UI or CLI: query {@code describe}; updates {@code pause}, {@code resume},
 * {@code trigger} (fire now, same overlap rule) and {@code delete} (ends the workflow; a running
 * rehearsal goes on), each with {@code {"by":"...","note":"..."}}.
 */
@WorkflowInterface
public interface RehearsalScheduleWorkflow {
  String DESCRIBE_QUERY = "describe";
  String PAUSE_UPDATE = "pause";
  String RESUME_UPDATE = "resume";
  String TRIGGER_UPDATE = "trigger";
  String DELETE_UPDATE = "delete";

  /**
   * Keeps the schedule until it is deleted.
   *
   * @param memory what an earlier run of this schedule carried over (continue-as-new), or
   *     {@code null} for a new schedule
   */
  @WorkflowMethod
  void keep(ScheduleDefinition definition, ScheduleMemory memory);

  @QueryMethod(name = DESCRIBE_QUERY)
  ScheduleStatus describe();

  /** Stops firing until resumed; idempotent. */
  @UpdateMethod(name = PAUSE_UPDATE)
  ScheduleStatus pause(ScheduleCommand command);

  /** Fires again from the next fire time on (fires missed while paused are not caught up). */
  @UpdateMethod(name = RESUME_UPDATE)
  ScheduleStatus resume(ScheduleCommand command);

  /** Fires now, paused or not; returns what the fire did (started, or skipped and why). */
  @UpdateMethod(name = TRIGGER_UPDATE)
  FireRecord trigger(ScheduleCommand command);

  /** Ends the schedule; a rehearsal it started goes on. */
  @UpdateMethod(name = DELETE_UPDATE)
  ScheduleStatus delete(ScheduleCommand command);

  @UpdateValidatorMethod(updateName = PAUSE_UPDATE)
  void validatePause(ScheduleCommand command);

  @UpdateValidatorMethod(updateName = RESUME_UPDATE)
  void validateResume(ScheduleCommand command);

  @UpdateValidatorMethod(updateName = TRIGGER_UPDATE)
  void validateTrigger(ScheduleCommand command);

  @UpdateValidatorMethod(updateName = DELETE_UPDATE)
  void validateDelete(ScheduleCommand command);
}

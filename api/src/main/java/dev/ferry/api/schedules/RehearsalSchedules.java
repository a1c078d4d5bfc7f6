package dev.ferry.api.schedules;

import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import java.util.Optional;

/**
 * Where rehearsal schedules are kept in Temporal: its native Schedules ({@link NativeSchedules},
 * visible in the Temporal UI) or one {@code RehearsalScheduleWorkflow} each ({@link
 * WorkflowSchedules}, for servers without the Schedule API such as the embedded one). {@link
 * ScheduleBackends} picks one at start-up. Listing is the ledger's ({@code ScheduleRegistry}):
 * the embedded server cannot list.
 *
 * <p>Every call may throw {@link ScheduleGoneException} (no such schedule in Temporal, or it
 * was deleted), {@link ScheduleUnavailableException} (no worker or Temporal answered), or a
 * gRPC {@code StatusRuntimeException} when Temporal cannot be reached.
 */
public interface RehearsalSchedules {
  String NATIVE = "native";
  String WORKFLOW = "workflow";

  /** {@value #NATIVE} or {@value #WORKFLOW}. */
  String backend();

  /** Creates the schedule; creating the same id again changes nothing (a retried request). */
  void create(ScheduleDefinition definition);

  /** The schedule as Temporal has it now, or empty when Temporal does not know it. */
  Optional<ScheduleStatus> describe(String scheduleId);

  ScheduleStatus pause(String scheduleId, ScheduleCommand command);

  ScheduleStatus resume(String scheduleId, ScheduleCommand command);

  /** Fires now, under the same overlap rule as a timed fire. */
  FireRecord trigger(String scheduleId, ScheduleCommand command);

  /** Ends the schedule; a rehearsal it started goes on. */
  void delete(String scheduleId, ScheduleCommand command);

  /** Temporal has no such schedule, or it is deleted. */
  class ScheduleGoneException extends RuntimeException {
    public ScheduleGoneException(String message) {
      super(message);
    }
  }

  /** Nobody answered in time: no worker for a workflow-kept schedule. */
  class ScheduleUnavailableException extends RuntimeException {
    public ScheduleUnavailableException(String message) {
      super(message);
    }
  }
}

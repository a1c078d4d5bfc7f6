package dev.ferry.api.schedules;

import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.model.schedule.ScheduleTiming;
import dev.ferry.workflow.RehearsalWorkflow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow;
import io.temporal.client.schedules.ScheduleActionResult;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleInfo;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Schedules kept by Temporal's own Schedules (a full Temporal server; not the embedded one):
 * visible and manageable in the Temporal UI under the schedule's id. The action starts {@code
 * RehearsalWorkflow} with overlap policy SKIP, so Temporal never starts one while the last one
 * it started still runs; a migration or another schedule's rehearsal of the app is caught by the
 * rehearsal's own check at its start.
 *
 * <p>Temporal names each rehearsal it starts {@code rehearsal-<app>-<8 hex>-<fire time>} (it
 * appends the time to the id it is given). Skipped fires are counted ({@code skipped}), not
 * listed one by one: Temporal keeps only the actions it took.
 */
public class NativeSchedules implements RehearsalSchedules {
  /** A fire missed while Temporal was down is still taken this long after its time. */
  static final Duration CATCHUP_WINDOW = Duration.ofMinutes(10);

  private final ScheduleClient schedules;
  private final String taskQueue;
  private final Clock clock;

  public NativeSchedules(ScheduleClient schedules, String taskQueue, Clock clock) {
    this.schedules = schedules;
    this.taskQueue = taskQueue;
    this.clock = clock;
  }

  @Override
  public String backend() {
    return NATIVE;
  }

  /** The Temporal schedule for a definition: spec from its timing, action, policy, first note. */
  static Schedule scheduleFor(ScheduleDefinition definition, String taskQueue) {
    ScheduleTiming timing = definition.timing();
    ScheduleSpec.Builder spec = ScheduleSpec.newBuilder().setTimeZoneName(timing.timezone());
    if (timing.interval() != null) {
      spec.setIntervals(List.of(new ScheduleIntervalSpec(timing.interval())));
    } else {
      spec.setCronExpressions(List.of(timing.cron().trim()));
    }
    // The schedule id's 8 hex digits: Temporal appends the fire time to this id.
    String suffix = definition.scheduleId().substring(definition.scheduleId().lastIndexOf('-') + 1);
    ScheduleActionStartWorkflow action =
        ScheduleActionStartWorkflow.newBuilder()
            .setWorkflowType(RehearsalWorkflow.class)
            .setArguments(
                new RehearsalRequest(definition.runbook(), definition.startedBy(), definition.scheduleId(), definition.freshSnapshot()))
            .setOptions(
                WorkflowOptions.newBuilder()
                    .setWorkflowId("rehearsal-" + definition.app() + "-" + suffix)
                    .setTaskQueue(taskQueue)
                    .setMemo(Map.of("app", definition.app(), "scheduleId", definition.scheduleId()))
                    .build())
            .build();
    return Schedule.newBuilder()
        .setSpec(spec.build())
        .setAction(action)
        .setPolicy(
            SchedulePolicy.newBuilder()
                .setOverlap(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP)
                .setCatchupWindow(CATCHUP_WINDOW)
                .build())
        .setState(ScheduleState.newBuilder().setNote("created by " + definition.createdBy()).build())
        .build();
  }

  @Override
  public void create(ScheduleDefinition definition) {
    try {
      schedules.createSchedule(
          definition.scheduleId(),
          scheduleFor(definition, taskQueue),
          ScheduleOptions.newBuilder()
              .setMemo(Map.of("app", definition.app(), "createdBy", definition.createdBy(), "timing", definition.timing().describe()))
              .build());
    } catch (ScheduleAlreadyRunningException e) {
      // A retried request: the schedule it created is the answer.
    } catch (RuntimeException e) {
      if (hasCode(e, Status.Code.UNIMPLEMENTED)) {
        throw new ScheduleUnavailableException(
            "this Temporal server has no Schedule API (the embedded test server?): set schedules.backend to workflow or auto");
      }
      throw e;
    }
  }

  @Override
  public Optional<ScheduleStatus> describe(String scheduleId) {
    try {
      return Optional.of(statusOf(schedules.getHandle(scheduleId).describe()));
    } catch (RuntimeException e) {
      if (notFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** Temporal's description in Ferry's terms; the timing comes from the ledger's row. */
  static ScheduleStatus statusOf(ScheduleDescription d) {
    ScheduleInfo info = d.getInfo();
    ScheduleState state = d.getSchedule().getState();
    List<FireRecord> recent =
        info.getRecentActions().stream()
            .sorted(Comparator.comparing(ScheduleActionResult::getScheduledAt).reversed())
            .limit(ScheduleStatus.RECENT_FIRES)
            .map(
                a ->
                    new FireRecord(
                        a.getStartedAt(),
                        a.getScheduledAt(),
                        "schedule",
                        FireRecord.Result.STARTED,
                        a.getAction() instanceof ScheduleActionExecutionStartWorkflow w ? w.getWorkflowId() : null,
                        null))
            .toList();
    String running =
        info.getRunningActions().stream()
            .filter(ScheduleActionExecutionStartWorkflow.class::isInstance)
            .map(a -> ((ScheduleActionExecutionStartWorkflow) a).getWorkflowId())
            .findFirst()
            .orElse(null);
    Instant next = state.isPaused() || info.getNextActionTimes().isEmpty() ? null : info.getNextActionTimes().get(0);
    return new ScheduleStatus(
        d.getId(),
        null,
        null,
        state.isPaused() ? ScheduleStatus.PAUSED : ScheduleStatus.ACTIVE,
        blankToNull(state.getNote()),
        next,
        running,
        info.getNumActions(),
        info.getNumActionsSkippedOverlap(),
        recent);
  }

  @Override
  public ScheduleStatus pause(String scheduleId, ScheduleCommand command) {
    handle(scheduleId).pause(note("paused", command));
    return describe(scheduleId).orElseThrow(() -> gone(scheduleId));
  }

  @Override
  public ScheduleStatus resume(String scheduleId, ScheduleCommand command) {
    handle(scheduleId).unpause(note("resumed", command));
    return describe(scheduleId).orElseThrow(() -> gone(scheduleId));
  }

  @Override
  public FireRecord trigger(String scheduleId, ScheduleCommand command) {
    try {
      handle(scheduleId).trigger(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP);
    } catch (RuntimeException e) {
      throw notFound(e) ? gone(scheduleId) : e;
    }
    return new FireRecord(
        clock.instant(),
        null,
        "trigger by " + command.by(),
        FireRecord.Result.REQUESTED,
        null,
        "Temporal's schedule fires now unless its last rehearsal still runs; see its recent fires");
  }

  @Override
  public void delete(String scheduleId, ScheduleCommand command) {
    try {
      handle(scheduleId).delete();
    } catch (RuntimeException e) {
      throw notFound(e) ? gone(scheduleId) : e;
    }
  }

  private ScheduleHandle handle(String scheduleId) {
    if (describe(scheduleId).isEmpty()) {
      throw gone(scheduleId);
    }
    return schedules.getHandle(scheduleId);
  }

  private static String note(String what, ScheduleCommand command) {
    return what + " by " + command.by() + (command.note() == null || command.note().isBlank() ? "" : ": " + command.note().trim());
  }

  private static ScheduleGoneException gone(String scheduleId) {
    return new ScheduleGoneException("Temporal has no schedule " + scheduleId);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** Whether Temporal answered NOT_FOUND, however the client wrapped it. */
  static boolean notFound(Throwable e) {
    return hasCode(e, Status.Code.NOT_FOUND);
  }

  private static boolean hasCode(Throwable e, Status.Code code) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == code) {
        return true;
      }
    }
    return false;
  }
}

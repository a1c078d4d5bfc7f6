package dev.ferry.api.schedules;

import com.google.protobuf.Timestamp;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.workflow.RehearsalWorkflow;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.api.schedule.v1.ScheduleActionResult;
import io.temporal.api.schedule.v1.ScheduleInfo;
import io.temporal.api.schedule.v1.SchedulePatch;
import io.temporal.api.schedule.v1.TriggerImmediatelyRequest;
import io.temporal.api.workflowservice.v1.DeleteScheduleRequest;
import io.temporal.api.workflowservice.v1.DescribeScheduleRequest;
import io.temporal.api.workflowservice.v1.DescribeScheduleResponse;
import io.temporal.api.workflowservice.v1.ListScheduleMatchingTimesRequest;
import io.temporal.api.workflowservice.v1.PatchScheduleRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Rehearsal schedules as Temporal keeps them: one Temporal schedule each, its id the schedule's
 * id, visible and manageable in the Temporal UI and with {@code temporal schedule}. Its action
 * starts {@code RehearsalWorkflow} with overlap policy SKIP: Temporal never starts one while the
 * last one it started still runs, and counts that fire as skipped. A migration or another
 * rehearsal of the app is caught by the rehearsal's own check at its start.
 *
 * <p>Temporal names each rehearsal it starts {@code rehearsal-<app>-<8 hex>-<fire time>} (it
 * appends the fire time to the id it is given). Every call is bounded: one Temporal does not
 * answer in time fails with {@link ScheduleUnavailableException}; an unknown schedule with {@link
 * ScheduleGoneException}.
 */
public class TemporalSchedules {
  /** A fire missed while Temporal was down is still taken this long after its time. */
  static final Duration CATCHUP_WINDOW = Duration.ofMinutes(10);
  /** How long one call to Temporal may take. */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(10);
  /** Temporal answers at most this many matching times per call. */
  static final int MATCHING_TIMES_PAGE = 1000;

  private static final ScheduledExecutorService DEADLINES =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "ferry-api-schedule-deadlines");
            t.setDaemon(true);
            return t;
          });

  private final ScheduleClient schedules;
  private final WorkflowClient client;
  private final String namespace;
  private final String taskQueue;
  private final Clock clock;

  public TemporalSchedules(WorkflowClient client, String taskQueue, Clock clock) {
    this.client = client;
    this.namespace = client.getOptions().getNamespace();
    this.taskQueue = taskQueue;
    this.clock = clock;
    this.schedules =
        ScheduleClient.newInstance(
            client.getWorkflowServiceStubs(),
            ScheduleClientOptions.newBuilder()
                .setNamespace(namespace)
                // The rehearsal's input and the memo are payloads: encrypted like every other.
                .setDataConverter(client.getOptions().getDataConverter())
                .build());
  }

  /** Temporal's spec for a timing: a cron expression in its time zone, or an interval from the epoch. */
  static ScheduleSpec specOf(ScheduleTiming timing) {
    ScheduleSpec.Builder spec = ScheduleSpec.newBuilder().setTimeZoneName(timing.timezone());
    if (timing.interval() != null) {
      spec.setIntervals(List.of(new ScheduleIntervalSpec(timing.interval())));
    } else {
      spec.setCronExpressions(List.of(timing.cron().trim()));
    }
    return spec.build();
  }

  /** The Temporal schedule for a definition: spec from its timing, action, policy, first note. */
  static Schedule scheduleFor(ScheduleDefinition definition, String taskQueue, boolean paused, String note) {
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
        .setSpec(specOf(definition.timing()))
        .setAction(action)
        .setPolicy(
            SchedulePolicy.newBuilder()
                .setOverlap(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP)
                .setCatchupWindow(CATCHUP_WINDOW)
                .build())
        .setState(ScheduleState.newBuilder().setPaused(paused).setNote(note).build())
        .build();
  }

  /**
   * Creates the schedule; creating the same id again changes nothing (a retried request).
   *
   * @param paused created paused, with {@code note} saying why
   * @throws ScheduleRefusedException when Temporal refuses the spec
   */
  public void create(ScheduleDefinition definition, boolean paused, String note) {
    Schedule schedule = scheduleFor(definition, taskQueue, paused, note);
    ScheduleOptions options =
        ScheduleOptions.newBuilder()
            .setMemo(Map.of("app", definition.app(), "createdBy", definition.createdBy(), "timing", definition.timing().describe()))
            .build();
    call(
        definition.scheduleId(),
        () -> {
          try {
            // The SDK's own retries end at this call's deadline, not a minute later.
            return Context.current()
                .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS, DEADLINES)
                .call(() -> schedules.createSchedule(definition.scheduleId(), schedule, options));
          } catch (ScheduleAlreadyRunningException e) {
            return null; // a retried request: the schedule it created is the answer
          } catch (RuntimeException e) {
            throw e;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** The schedule as Temporal has it now, or empty when Temporal does not know it. */
  public Optional<ScheduleStatus> describe(String scheduleId) {
    try {
      return Optional.of(statusOf(describeRaw(scheduleId)));
    } catch (ScheduleGoneException e) {
      return Optional.empty();
    }
  }

  private DescribeScheduleResponse describeRaw(String scheduleId) {
    return call(
        scheduleId,
        () -> stub().describeSchedule(DescribeScheduleRequest.newBuilder().setNamespace(namespace).setScheduleId(scheduleId).build()));
  }

  /** Temporal's description in Ferry's terms. */
  static ScheduleStatus statusOf(DescribeScheduleResponse d) {
    ScheduleInfo info = d.getInfo();
    io.temporal.api.schedule.v1.ScheduleState state = d.getSchedule().getState();
    List<ScheduleStatus.Action> recent =
        info.getRecentActionsList().stream()
            .filter(ScheduleActionResult::hasStartWorkflowResult)
            .map(a -> new ScheduleStatus.Action(instant(a.getScheduleTime()), instant(a.getActualTime()), a.getStartWorkflowResult().getWorkflowId()))
            .sorted(Comparator.comparing(ScheduleStatus.Action::scheduledAt).reversed())
            .toList();
    List<String> running = info.getRunningWorkflowsList().stream().map(w -> w.getWorkflowId()).toList();
    Instant next = state.getPaused() || info.getFutureActionTimesCount() == 0 ? null : instant(info.getFutureActionTimes(0));
    return new ScheduleStatus(
        state.getPaused(),
        state.getNotes().isBlank() ? null : state.getNotes(),
        next,
        running,
        info.getActionCount(),
        info.getOverlapSkipped(),
        recent,
        info.hasCreateTime() ? instant(info.getCreateTime()) : null,
        info.hasUpdateTime() ? instant(info.getUpdateTime()) : null);
  }

  public ScheduleStatus pause(String scheduleId, ScheduleCommand command) {
    patch(scheduleId, SchedulePatch.newBuilder().setPause(note("paused", command)).build(), command.by());
    return describe(scheduleId).orElseThrow(() -> gone(scheduleId));
  }

  public ScheduleStatus resume(String scheduleId, ScheduleCommand command) {
    patch(scheduleId, SchedulePatch.newBuilder().setUnpause(note("resumed", command)).build(), command.by());
    return describe(scheduleId).orElseThrow(() -> gone(scheduleId));
  }

  /**
   * Fires now, paused or not, under the schedule's overlap rule, and waits (at most {@code wait})
   * for Temporal to act: STARTED with the rehearsal's id, SKIPPED with the rehearsal that still
   * runs, or REQUESTED when Temporal has not acted yet.
   */
  public FireRecord trigger(String scheduleId, ScheduleCommand command, Duration wait) {
    ScheduleStatus before = statusOf(describeRaw(scheduleId));
    Instant at = clock.instant();
    patch(
        scheduleId,
        SchedulePatch.newBuilder()
            .setTriggerImmediately(
                TriggerImmediatelyRequest.newBuilder().setOverlapPolicy(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP))
            .build(),
        command.by());
    String trigger = "trigger by " + command.by();
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      ScheduleStatus now = statusOf(describeRaw(scheduleId));
      if (now.actions() > before.actions() && !now.recent().isEmpty()) {
        ScheduleStatus.Action started = now.recent().get(0);
        return new FireRecord(started.startedAt(), started.scheduledAt(), trigger, FireRecord.Result.STARTED, started.rehearsalId(), null);
      }
      if (now.skippedOverlap() > before.skippedOverlap()) {
        String runningId = now.running().isEmpty() ? (before.running().isEmpty() ? null : before.running().get(0)) : now.running().get(0);
        return new FireRecord(at, at, trigger, FireRecord.Result.SKIPPED, null, ScheduleFires.stillRunning(runningId));
      }
      if (System.nanoTime() > deadline) {
        return new FireRecord(at, at, trigger, FireRecord.Result.REQUESTED, null,
            "Temporal had not acted on it after " + wait.toSeconds() + " s; see the schedule's recent fires");
      }
      sleep(Duration.ofMillis(100));
    }
  }

  /** Ends the schedule in Temporal; a rehearsal it started goes on. */
  public void delete(String scheduleId, ScheduleCommand command) {
    call(
        scheduleId,
        () ->
            stub().deleteSchedule(
                DeleteScheduleRequest.newBuilder()
                    .setNamespace(namespace)
                    .setScheduleId(scheduleId)
                    .setIdentity(identity(command.by()))
                    .build()));
  }

  /**
   * The fire times of the schedule's spec in {@code [from, to]}, as Temporal computes them
   * (time zone and daylight saving included), whether or not it was paused then.
   */
  public List<Instant> matchingTimes(String scheduleId, Instant from, Instant to) {
    List<Instant> times = new ArrayList<>();
    Instant start = from;
    // Temporal answers at most a page per call; a short interval over a long span needs more.
    for (int page = 0; page < 10 && !start.isAfter(to); page++) {
      Instant pageStart = start;
      List<Timestamp> got =
          call(
              scheduleId,
              () ->
                  stub().listScheduleMatchingTimes(
                          ListScheduleMatchingTimesRequest.newBuilder()
                              .setNamespace(namespace)
                              .setScheduleId(scheduleId)
                              .setStartTime(timestamp(pageStart))
                              .setEndTime(timestamp(to))
                              .build())
                      .getStartTimeList());
      got.stream().map(TemporalSchedules::instant).forEach(times::add);
      if (got.size() < MATCHING_TIMES_PAGE) {
        break;
      }
      start = times.get(times.size() - 1).plusMillis(1);
    }
    return times;
  }

  private void patch(String scheduleId, SchedulePatch patch, String by) {
    call(
        scheduleId,
        () ->
            stub().patchSchedule(
                PatchScheduleRequest.newBuilder()
                    .setNamespace(namespace)
                    .setScheduleId(scheduleId)
                    .setPatch(patch)
                    .setIdentity(identity(by))
                    .setRequestId(UUID.randomUUID().toString())
                    .build()));
  }

  private WorkflowServiceGrpc.WorkflowServiceBlockingStub stub() {
    return client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A call to Temporal, its refusals in Ferry's terms. */
  private static <T> T call(String scheduleId, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      Status.Code code = codeOf(e);
      if (code == Status.Code.NOT_FOUND) {
        throw gone(scheduleId);
      }
      if (code == Status.Code.INVALID_ARGUMENT) {
        throw new ScheduleRefusedException("Temporal refused schedule " + scheduleId + ": " + describe(e));
      }
      if (code != null) {
        throw new ScheduleUnavailableException("Temporal did not answer (" + code + "): " + describe(e) + "; try again");
      }
      throw e;
    }
  }

  private static Status.Code codeOf(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        return s.getStatus().getCode();
      }
    }
    return null;
  }

  private static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s && s.getStatus().getDescription() != null) {
        return s.getStatus().getDescription();
      }
    }
    return e.getMessage();
  }

  private static String identity(String by) {
    return "ferry-api:" + by;
  }

  private static String note(String what, ScheduleCommand command) {
    return what + " by " + command.by() + (command.note() == null || command.note().isBlank() ? "" : ": " + command.note().trim());
  }

  private static ScheduleGoneException gone(String scheduleId) {
    return new ScheduleGoneException("Temporal has no schedule " + scheduleId);
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ScheduleUnavailableException("interrupted while waiting for Temporal");
    }
  }

  /** Temporal has no such schedule. */
  public static class ScheduleGoneException extends RuntimeException {
    public ScheduleGoneException(String message) {
      super(message);
    }
  }

  /** Temporal did not answer in time. */
  public static class ScheduleUnavailableException extends RuntimeException {
    public ScheduleUnavailableException(String message) {
      super(message);
    }
  }

  /** Temporal refused the schedule as given (a spec it cannot read). */
  public static class ScheduleRefusedException extends RuntimeException {
    public ScheduleRefusedException(String message) {
      super(message);
    }
  }
}

package dev.ferry.workflow;

import dev.ferry.activity.RunOverlapActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.FieldError;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleMemory;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.options.ActivityCatalog;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;

/**
 * Keeps one rehearsal schedule: waits for the next fire time (or an update), fires, and
 * continues as new every {@link #FIRES_PER_RUN} fires so its history stays small.
 *
 * <p>Fire times come through {@code Workflow.sideEffect}: they are computed once and recorded,
 * so a replay never depends on the cron library or the JVM's time-zone rules of the day.
 */
public class RehearsalScheduleWorkflowImpl implements RehearsalScheduleWorkflow {
  private static final Logger log = Workflow.getLogger(RehearsalScheduleWorkflowImpl.class);
  /** Fires (started or skipped) after which the workflow continues as new, once idle. */
  static final int FIRES_PER_RUN = 50;

  private final RunOverlapActivities overlap =
      Workflow.newActivityStub(RunOverlapActivities.class, ActivityCatalog.overlapCheck());

  private final ScheduleDefinition definition;
  private boolean paused;
  private String note;
  private boolean deleted;
  private long started;
  private long skipped;
  private int firesThisRun;
  private final Deque<FireRecord> recent = new ArrayDeque<>();
  private Instant nextFireAt;

  /** The rehearsal this schedule started last, while it runs. */
  private String runningId;
  private Instant runningSince;
  private Promise<RehearsalReport> running;

  /** Triggers by hand, in the order they came, and what each did, by ticket. */
  private final Deque<Trigger> triggers = new ArrayDeque<>();
  private final Map<Long, FireRecord> triggered = new HashMap<>();
  private long tickets;

  private record Trigger(long ticket, ScheduleCommand command) {}

  /**
   * Takes the definition and the carried-over memory before any update is handled, so a pause
   * that arrives with the start is not overwritten by the memory.
   */
  @WorkflowInit
  public RehearsalScheduleWorkflowImpl(ScheduleDefinition definition, ScheduleMemory memory) {
    this.definition = definition;
    ScheduleMemory m = memory == null ? ScheduleMemory.fresh() : memory;
    paused = m.paused();
    note = m.note();
    started = m.started();
    skipped = m.skipped();
    m.recent().forEach(recent::addLast);
  }

  @Override
  public void keep(ScheduleDefinition definition, ScheduleMemory memory) {
    List<FieldError> problems = definition.timing().problems();
    if (!problems.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "schedule " + definition.scheduleId() + " cannot fire: "
              + problems.stream().map(FieldError::toString).collect(Collectors.joining("; ")),
          Errors.SCHEDULE_INVALID);
    }
    while (true) {
      if (deleted) {
        while (!triggers.isEmpty()) {
          Trigger t = triggers.removeFirst();
          triggered.put(t.ticket(), skip(null, "trigger by " + t.command().by(), "the schedule was deleted"));
        }
        // Let every update that is still answering (delete itself) return before the run ends.
        Workflow.await(Workflow::isEveryHandlerFinished);
        log.info("schedule {} deleted", definition.scheduleId());
        return;
      }
      if (!triggers.isEmpty()) {
        Trigger t = triggers.removeFirst();
        triggered.put(t.ticket(), fire(null, "trigger by " + t.command().by()));
        continue;
      }
      if (timeToContinue()) {
        Workflow.await(Workflow::isEveryHandlerFinished);
        Workflow.continueAsNew(definition, new ScheduleMemory(paused, note, started, skipped, List.copyOf(recent)));
      }
      if (paused) {
        nextFireAt = null;
        Workflow.await(() -> deleted || !paused || !triggers.isEmpty() || timeToContinue());
        continue;
      }
      Instant now = now();
      Instant next = Workflow.sideEffect(Instant.class, () -> definition.timing().nextFireAfter(now));
      nextFireAt = next;
      boolean interrupted =
          Workflow.await(Duration.between(now, next), () -> deleted || paused || !triggers.isEmpty() || timeToContinue());
      if (!interrupted) {
        fire(next, "schedule");
      }
    }
  }

  /** Enough fires for one run's history, and nothing in flight that a new run would lose. */
  private boolean timeToContinue() {
    return firesThisRun >= FIRES_PER_RUN && idle();
  }

  /** No rehearsal of this schedule's is running (continuing as new would lose track of it). */
  private boolean idle() {
    return running == null || running.isCompleted();
  }

  /** Starts a rehearsal unless one of the app is running; records either. */
  private FireRecord fire(Instant scheduledFor, String trigger) {
    firesThisRun++;
    if (!idle()) {
      return skip(scheduledFor, trigger, "rehearsal " + runningId + " (started " + runningSince + ") is still running");
    }
    List<String> others = othersRunning();
    if (!others.isEmpty()) {
      return skip(scheduledFor, trigger, String.join(", ", others) + (others.size() == 1 ? " is" : " are") + " still running");
    }
    String rehearsalId = "rehearsal-" + definition.app() + "-" + Workflow.randomUUID().toString().replace("-", "").substring(0, 8);
    RehearsalWorkflow child =
        Workflow.newChildWorkflowStub(
            RehearsalWorkflow.class,
            ChildWorkflowOptions.newBuilder()
                .setWorkflowId(rehearsalId)
                // The rehearsal outlives its schedule: deleting or continuing it as new must not end it.
                .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON)
                .build());
    Promise<RehearsalReport> result =
        Async.function(
            child::rehearse,
            new RehearsalRequest(definition.runbook(), definition.startedBy(), definition.scheduleId(), definition.freshSnapshot()));
    try {
      Workflow.getWorkflowExecution(child).get();
    } catch (TemporalFailure e) {
      return remember(new FireRecord(now(), scheduledFor, trigger, FireRecord.Result.FAILED, rehearsalId, "Temporal did not start it: " + e.getMessage()));
    }
    started++;
    running = result;
    runningId = rehearsalId;
    runningSince = now();
    log.info("schedule {} started {}", definition.scheduleId(), rehearsalId);
    FireRecord record = remember(new FireRecord(now(), scheduledFor, trigger, FireRecord.Result.STARTED, rehearsalId, null));
    result.handle(
        (report, failure) -> {
          String outcome =
              failure != null ? "failed: " + failure.getMessage()
                  : report != null && !report.succeeded() ? "finished: the rehearsal did not succeed" : "finished";
          noteOutcome(rehearsalId, outcome);
          return null;
        });
    return record;
  }

  /** Other runs of the app the ledger knows of; when it cannot tell, the rehearsal's own check decides. */
  private List<String> othersRunning() {
    try {
      List<String> runs = overlap.runningRunsOf(definition.app());
      return runs == null ? List.of() : runs;
    } catch (TemporalFailure e) {
      log.warn("schedule {} could not ask which runs of {} are running: {}", definition.scheduleId(), definition.app(), e.getMessage());
      return List.of();
    }
  }

  private FireRecord skip(Instant scheduledFor, String trigger, String why) {
    skipped++;
    log.info("schedule {} skipped a fire: {}", definition.scheduleId(), why);
    return remember(new FireRecord(now(), scheduledFor, trigger, FireRecord.Result.SKIPPED, null, why));
  }

  private FireRecord remember(FireRecord record) {
    recent.addFirst(record);
    while (recent.size() > ScheduleStatus.RECENT_FIRES) {
      recent.removeLast();
    }
    return record;
  }

  private void noteOutcome(String rehearsalId, String outcome) {
    List<FireRecord> updated = new ArrayList<>(recent.size());
    for (FireRecord r : recent) {
      updated.add(rehearsalId.equals(r.rehearsalId()) ? r.withReason(outcome) : r);
    }
    recent.clear();
    recent.addAll(updated);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }

  @Override
  public ScheduleStatus describe() {
    if (definition == null) {
      return null;
    }
    return new ScheduleStatus(
        definition.scheduleId(),
        definition.app(),
        definition.timing(),
        deleted ? ScheduleStatus.DELETED : paused ? ScheduleStatus.PAUSED : ScheduleStatus.ACTIVE,
        note,
        deleted || paused ? null : nextFireAt,
        idle() ? null : runningId,
        started,
        skipped,
        List.copyOf(recent));
  }

  @Override
  public ScheduleStatus pause(ScheduleCommand command) {
    paused = true;
    note = "paused by " + command.by() + (blank(command.note()) ? "" : ": " + command.note().trim());
    return describe();
  }

  @Override
  public ScheduleStatus resume(ScheduleCommand command) {
    paused = false;
    note = "resumed by " + command.by() + (blank(command.note()) ? "" : ": " + command.note().trim());
    return describe();
  }

  @Override
  public FireRecord trigger(ScheduleCommand command) {
    long ticket = ++tickets;
    triggers.addLast(new Trigger(ticket, command));
    Workflow.await(() -> triggered.containsKey(ticket));
    return triggered.remove(ticket);
  }

  @Override
  public ScheduleStatus delete(ScheduleCommand command) {
    deleted = true;
    note = "deleted by " + command.by() + (blank(command.note()) ? "" : ": " + command.note().trim());
    return describe();
  }

  @Override
  public void validatePause(ScheduleCommand command) {
    refuseWhenDeletedOrAnonymous(command);
  }

  @Override
  public void validateResume(ScheduleCommand command) {
    refuseWhenDeletedOrAnonymous(command);
  }

  @Override
  public void validateTrigger(ScheduleCommand command) {
    refuseWhenDeletedOrAnonymous(command);
  }

  @Override
  public void validateDelete(ScheduleCommand command) {
    refuseWhenDeletedOrAnonymous(command);
  }

  /** Refused at once, leaving nothing in history. */
  private void refuseWhenDeletedOrAnonymous(ScheduleCommand command) {
    if (command == null || blank(command.by())) {
      throw new IllegalArgumentException("say who asks: {\"by\": \"<user>\"}");
    }
    if (deleted) {
      throw new IllegalStateException("the schedule is deleted");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}

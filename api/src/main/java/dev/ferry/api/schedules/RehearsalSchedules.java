package dev.ferry.api.schedules;

import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.representations.ScheduleView;
import dev.ferry.api.schedules.TemporalSchedules.ScheduleGoneException;
import dev.ferry.api.schedules.TemporalSchedules.ScheduleUnavailableException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rehearsal schedules: Temporal keeps each one ({@link TemporalSchedules}: its timing, pause,
 * fires), the ledger lists them and keeps what was done to them and the rehearsals they started
 * ({@link ScheduleRegistry}); a view puts both together ({@link ScheduleFires}).
 */
public class RehearsalSchedules {
  /** How long a trigger waits to say what the fire did. */
  public static final Duration TRIGGER_WAIT = Duration.ofSeconds(10);
  /** How many changes a view lists. */
  static final int HISTORY = 20;

  private final TemporalSchedules temporal;
  private final ScheduleRegistry registry;
  private final Clock clock;
  private final Duration triggerWait;

  public RehearsalSchedules(TemporalSchedules temporal, ScheduleRegistry registry, Clock clock) {
    this(temporal, registry, clock, TRIGGER_WAIT);
  }

  public RehearsalSchedules(TemporalSchedules temporal, ScheduleRegistry registry, Clock clock, Duration triggerWait) {
    this.temporal = temporal;
    this.registry = registry;
    this.clock = clock;
    this.triggerWait = triggerWait;
  }

  public ScheduleRegistry registry() {
    return registry;
  }

  /**
   * Writes the ledger's row, has Temporal create the schedule, then marks the row active;
   * when Temporal refuses or does not answer, the row goes and the error is thrown.
   */
  public ScheduleView create(ScheduleDefinition definition) throws SQLException {
    registry.claim(definition);
    try {
      temporal.create(definition, false, "created by " + definition.createdBy());
    } catch (RuntimeException e) {
      registry.forget(definition.scheduleId()); // nothing kept in Temporal: leave nothing written
      throw e;
    }
    registry.activate(definition.scheduleId());
    registry.record(definition.scheduleId(), ScheduleRegistry.Event.of(clock.instant(), "CREATED", definition.createdBy(), definition.timing().describe()));
    return view(registry.find(definition.scheduleId()).orElseThrow());
  }

  /** Schedules not deleted (of one app, or all), newest first, each with its state from Temporal. */
  public List<ScheduleView> list(String app) throws SQLException {
    List<ScheduleView> views = new ArrayList<>();
    String unanswered = null;
    for (ScheduleRegistry.Entry e : registry.list(app)) {
      if (unanswered != null) {
        // One wait for a Temporal that does not answer is enough: the rest would wait as long.
        views.add(ScheduleView.of(e, null, null, List.of(), ScheduleView.UNKNOWN, unanswered));
        continue;
      }
      ScheduleView v = view(e);
      if (ScheduleView.UNKNOWN.equals(v.state())) {
        unanswered = v.problem();
      }
      views.add(v);
    }
    return views;
  }

  /** The ledger's row with what Temporal says now; a schedule Temporal cannot describe says why. */
  public ScheduleView view(ScheduleRegistry.Entry e) throws SQLException {
    List<ScheduleRegistry.Event> events = registry.events(e.scheduleId(), 200);
    List<ScheduleRegistry.Rehearsal> rehearsals = registry.rehearsals(e.scheduleId(), ScheduleFires.RECENT);
    long skippedRehearsals = registry.skippedRehearsals(e.scheduleId());
    List<ScheduleRegistry.Event> history = events.subList(0, Math.min(HISTORY, events.size()));
    if ("DELETED".equals(e.state())) {
      return ScheduleView.of(e, null, fires(null, e, rehearsals, skippedRehearsals, events), history, ScheduleStatus.DELETED, null);
    }
    if (ScheduleRegistry.KEPT_BY_WORKFLOW.equals(e.backend())) {
      return ScheduleView.of(
          e, null, fires(null, e, rehearsals, skippedRehearsals, events), history, ScheduleView.MISSING,
          "kept by a RehearsalScheduleWorkflow, which Ferry no longer runs; the API makes it a Temporal schedule when it"
              + " starts, and had not: see the API's log");
    }
    Optional<ScheduleStatus> status;
    try {
      status = temporal.describe(e.scheduleId());
    } catch (ScheduleUnavailableException ex) {
      return ScheduleView.of(e, null, fires(null, e, rehearsals, skippedRehearsals, events), history, ScheduleView.UNKNOWN, ex.getMessage());
    }
    if (status.isEmpty()) {
      return ScheduleView.of(
          e, null, fires(null, e, rehearsals, skippedRehearsals, events), history, ScheduleView.MISSING,
          "Temporal has no schedule " + e.scheduleId() + ": it was deleted outside Ferry (the Temporal UI or CLI), or"
              + " Temporal's state was lost; delete it here, and create it again to rehearse on a schedule");
    }
    ScheduleFires.Summary fires;
    try {
      fires = fires(status.get(), e, rehearsals, skippedRehearsals, events);
    } catch (ScheduleUnavailableException | ScheduleGoneException ex) {
      fires = fires(null, e, rehearsals, skippedRehearsals, events);
    }
    return ScheduleView.of(e, status.get(), fires, history, null, null);
  }

  private ScheduleFires.Summary fires(
      ScheduleStatus status, ScheduleRegistry.Entry e, List<ScheduleRegistry.Rehearsal> rehearsals, long skippedRehearsals,
      List<ScheduleRegistry.Event> events) {
    return ScheduleFires.summarize(
        status, rehearsals, skippedRehearsals, events, (from, to) -> temporal.matchingTimes(e.scheduleId(), from, to), clock.instant());
  }

  /** Stops firing until resumed; idempotent. */
  public ScheduleView pause(ScheduleRegistry.Entry e, ScheduleCommand command) throws SQLException {
    temporal.pause(e.scheduleId(), command);
    registry.paused(e.scheduleId(), true);
    registry.record(e.scheduleId(), ScheduleRegistry.Event.of(clock.instant(), "PAUSED", command.by(), command.note()));
    return view(e);
  }

  /** Fires again from the next fire time on. */
  public ScheduleView resume(ScheduleRegistry.Entry e, ScheduleCommand command) throws SQLException {
    temporal.resume(e.scheduleId(), command);
    registry.paused(e.scheduleId(), false);
    registry.record(e.scheduleId(), ScheduleRegistry.Event.of(clock.instant(), "RESUMED", command.by(), command.note()));
    return view(e);
  }

  /**
   * Fires now, under the overlap rule, and says what the fire did: Temporal started a rehearsal
   * (which then either rehearses, or finds a migration or another rehearsal of the app running
   * and stops: SKIPPED, with its reason), or skipped it because the schedule's last rehearsal
   * still runs. Recorded in the ledger either way.
   */
  public FireRecord trigger(ScheduleRegistry.Entry e, ScheduleCommand command) throws SQLException {
    long deadline = System.nanoTime() + triggerWait.toNanos();
    FireRecord fire = temporal.trigger(e.scheduleId(), command, triggerWait);
    if (fire.result() == FireRecord.Result.STARTED) {
      fire = afterOverlapCheck(e.scheduleId(), fire, deadline);
    }
    registry.record(
        e.scheduleId(),
        new ScheduleRegistry.Event(clock.instant(), "TRIGGERED", command.by(), command.note(), fire.result().name(), fire.rehearsalId(), fire.reason()));
    return fire;
  }

  /** The started rehearsal's own overlap check, as its ledger rows say, until the deadline. */
  private FireRecord afterOverlapCheck(String scheduleId, FireRecord fire, long deadline) throws SQLException {
    while (true) {
      Optional<ScheduleRegistry.Rehearsal> r =
          registry.rehearsals(scheduleId, ScheduleFires.RECENT).stream().filter(x -> x.runId().equals(fire.rehearsalId())).findFirst();
      if (r.isPresent() && r.get().skipped() != null) {
        return new FireRecord(fire.at(), fire.scheduledFor(), fire.trigger(), FireRecord.Result.SKIPPED, fire.rehearsalId(), r.get().skipped());
      }
      boolean pastCheck =
          r.isPresent() && (r.get().endedAt() != null || (r.get().phase() != null && !r.get().phase().equals("overlap-check")));
      if (pastCheck || System.nanoTime() > deadline) {
        return fire;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return fire;
      }
    }
  }

  /** Ends the schedule; a rehearsal it started goes on. A schedule Temporal no longer has is marked deleted too. */
  public ScheduleView delete(ScheduleRegistry.Entry e, ScheduleCommand command) throws SQLException {
    if (!ScheduleRegistry.KEPT_BY_WORKFLOW.equals(e.backend())) {
      try {
        temporal.delete(e.scheduleId(), command);
      } catch (ScheduleGoneException gone) {
        // Deleted outside Ferry already: the ledger catches up.
      }
    }
    registry.deleted(e.scheduleId(), command.by());
    registry.record(e.scheduleId(), ScheduleRegistry.Event.of(clock.instant(), "DELETED", command.by(), command.note()));
    return view(registry.find(e.scheduleId()).orElseThrow());
  }
}

package dev.ferry.api.representations;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.schedules.FireRecord;
import dev.ferry.api.schedules.ScheduleFires;
import dev.ferry.api.schedules.ScheduleStatus;
import dev.ferry.api.schedules.ScheduleTiming;
import java.time.Instant;
import java.util.List;

/**
 * A rehearsal schedule: how it was created (from the ledger) and what it is doing (from
 * Temporal): state, next fire, the rehearsal running now, and its recent fires, started or
 * skipped and why; and what was done to it through Ferry.
 *
 * @param state {@code ACTIVE}, {@code PAUSED}, {@code DELETED}; {@code MISSING} when Temporal has
 *     no such schedule (deleted outside Ferry); {@code UNKNOWN} when Temporal did not answer
 *     ({@code problem} says why)
 * @param started rehearsals its fires started that rehearsed (or are rehearsing)
 * @param skipped fires that rehearsed nothing: skipped by Temporal because its last rehearsal still
 *     ran, or stopped by the rehearsal's own overlap check
 * @param recent its latest fires, newest first
 * @param history what was done to it through Ferry, newest first
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ScheduleView(
    String scheduleId,
    String app,
    String cron,
    String interval,
    String timezone,
    boolean freshSnapshot,
    String createdBy,
    Instant createdAt,
    String state,
    String note,
    Instant nextFireAt,
    String runningRehearsalId,
    Long started,
    Long skipped,
    List<Fire> recent,
    List<Change> history,
    String problem,
    String url) {
  public static final String MISSING = "MISSING";
  public static final String UNKNOWN = "UNKNOWN";

  /** One fire: when, for which fire time, by what, and what it did. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Fire(Instant at, Instant scheduledFor, String trigger, String result, String rehearsalId, String reason) {
    public static Fire from(FireRecord f) {
      return new Fire(f.at(), f.scheduledFor(), f.trigger(), f.result().name(), f.rehearsalId(), f.reason());
    }
  }

  /** Something done to the schedule through Ferry: CREATED, PAUSED, RESUMED, TRIGGERED, DELETED, CONVERTED. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Change(Instant at, String type, String by, String note, String result) {
    static Change from(ScheduleRegistry.Event e) {
      return new Change(e.at(), e.type(), e.actor(), e.note(), e.fireResult());
    }
  }

  /** {@code POST /api/schedules/{id}/trigger}: what the fire did. */
  public record Triggered(String scheduleId, Fire fire) {}

  /** {@code GET /api/schedules}. */
  public record Page(List<ScheduleView> schedules) {}

  /**
   * @param s what Temporal says, or {@code null} when it was not asked or did not answer
   * @param fires the recent fires and counts, or {@code null}
   * @param state the state when {@code s} is {@code null}
   */
  public static ScheduleView of(
      ScheduleRegistry.Entry e, ScheduleStatus s, ScheduleFires.Summary fires, List<ScheduleRegistry.Event> history, String state,
      String problem) {
    ScheduleTiming t = e.timing();
    String note = s != null ? s.note() : ScheduleStatus.DELETED.equals(state) && e.deletedBy() != null ? "deleted by " + e.deletedBy() : null;
    return new ScheduleView(
        e.scheduleId(),
        e.app(),
        t.cron(),
        t.interval() == null ? null : ScheduleTiming.show(t.interval()),
        t.timezone(),
        e.freshSnapshot(),
        e.createdBy(),
        e.createdAt(),
        state != null ? state : s.state(),
        note,
        s == null ? null : s.nextFireAt(),
        s == null || s.running().isEmpty() ? null : s.running().get(0),
        fires == null ? null : fires.started(),
        fires == null ? null : fires.skipped(),
        fires == null ? List.of() : fires.recent().stream().map(Fire::from).toList(),
        history.stream().map(Change::from).toList(),
        problem,
        "/api/schedules/" + e.scheduleId());
  }
}

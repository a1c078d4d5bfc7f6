package dev.ferry.api.representations;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.model.schedule.ScheduleTiming;
import java.time.Instant;
import java.util.List;

/**
 * A rehearsal schedule: how it was created (from the ledger) and what it is doing (from
 * Temporal): state, next fire, the rehearsal running now, and its recent fires, started or
 * skipped and why.
 *
 * @param state {@code ACTIVE}, {@code PAUSED}, {@code DELETED}; {@code MISSING} when Temporal no
 *     longer knows it (the embedded server forgets everything when it stops); {@code UNKNOWN}
 *     when Temporal or a worker did not answer ({@code problem} says which)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ScheduleView(
    String scheduleId,
    String app,
    String backend,
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

  /** {@code POST /api/schedules/{id}/trigger}: what the fire did. */
  public record Triggered(String scheduleId, Fire fire) {}

  /** {@code GET /api/schedules}. */
  public record Page(List<ScheduleView> schedules, String backend) {}

  public static ScheduleView of(ScheduleRegistry.Entry e, ScheduleStatus s, String state, String problem) {
    ScheduleTiming t = e.timing();
    return new ScheduleView(
        e.scheduleId(),
        e.app(),
        e.backend(),
        t.cron(),
        t.interval() == null ? null : ScheduleTiming.show(t.interval()),
        t.timezone(),
        e.freshSnapshot(),
        e.createdBy(),
        e.createdAt(),
        state != null ? state : s.state(),
        s == null ? (ScheduleStatus.DELETED.equals(state) && e.deletedBy() != null ? "deleted by " + e.deletedBy() : null) : s.note(),
        s == null ? null : s.nextFireAt(),
        s == null ? null : s.runningRehearsalId(),
        s == null ? null : s.started(),
        s == null ? null : s.skipped(),
        s == null ? null : s.recent().stream().map(Fire::from).toList(),
        problem,
        "/api/schedules/" + e.scheduleId());
  }
}

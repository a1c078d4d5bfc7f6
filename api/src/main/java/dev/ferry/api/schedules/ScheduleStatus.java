package dev.ferry.api.schedules;

import java.time.Instant;
import java.util.List;

/**
 * A schedule as Temporal describes it now.
 *
 * @param paused whether it is paused (from Ferry, the Temporal UI or {@code temporal schedule toggle})
 * @param note the note of its last pause or resume, or of its creation
 * @param nextFireAt the next time it fires, or {@code null} when paused
 * @param running the rehearsals it started that are still running (at most one: overlap SKIP)
 * @param actions how many rehearsals Temporal started for it
 * @param skippedOverlap how many fires Temporal skipped because its last rehearsal still ran
 * @param recent the last rehearsals Temporal started for it (Temporal keeps ten), newest first
 * @param updatedAt when the schedule was last changed (paused, resumed, updated)
 */
public record ScheduleStatus(
    boolean paused,
    String note,
    Instant nextFireAt,
    List<String> running,
    long actions,
    long skippedOverlap,
    List<Action> recent,
    Instant createdAt,
    Instant updatedAt) {
  public static final String ACTIVE = "ACTIVE";
  public static final String PAUSED = "PAUSED";
  public static final String DELETED = "DELETED";

  public String state() {
    return paused ? PAUSED : ACTIVE;
  }

  /** A rehearsal Temporal started: for which fire time, when, and its workflow id. */
  public record Action(Instant scheduledAt, Instant startedAt, String rehearsalId) {}
}

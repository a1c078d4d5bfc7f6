package dev.ferry.model.schedule;

import java.time.Instant;
import java.util.List;

/**
 * A schedule as it is now: the answer of the workflow's {@code describe} query, and what the
 * native implementation reads from Temporal's schedule.
 *
 * @param state {@code ACTIVE}, {@code PAUSED} or {@code DELETED}
 * @param note why it was paused or resumed last, and by whom
 * @param nextFireAt the next time it fires, or {@code null} when paused
 * @param runningRehearsalId the rehearsal it started that is still running, or {@code null}
 * @param started how many rehearsals it has started
 * @param skipped how many fires it skipped because one was still running
 * @param recent the latest fires, newest first (at most {@code RECENT_FIRES})
 */
public record ScheduleStatus(
    String scheduleId,
    String app,
    ScheduleTiming timing,
    String state,
    String note,
    Instant nextFireAt,
    String runningRehearsalId,
    long started,
    long skipped,
    List<FireRecord> recent) {
  public static final int RECENT_FIRES = 20;
  public static final String ACTIVE = "ACTIVE";
  public static final String PAUSED = "PAUSED";
  public static final String DELETED = "DELETED";
}

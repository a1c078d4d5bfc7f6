package dev.ferry.model.schedule;

import dev.ferry.model.runbook.Runbook;
import java.time.Instant;

/**
 * A rehearsal schedule as it was created: which app's runbook to rehearse and when. The input
 * of {@code RehearsalScheduleWorkflow}, and what Temporal's native schedule is built from.
 *
 * @param scheduleId {@code schedule-<app>-<8 hex>}; also the schedule's workflow id (or the
 *     native schedule's id)
 * @param runbook the app's runbook (secret references only, never secrets)
 * @param freshSnapshot whether each rehearsal takes a new snapshot of the source
 * @param createdBy the authenticated API user who created it
 */
public record ScheduleDefinition(
    String scheduleId, Runbook runbook, ScheduleTiming timing, boolean freshSnapshot, String createdBy, Instant createdAt) {

  public String app() {
    return runbook.app();
  }

  /** Who the rehearsals it starts say started them: {@code schedule:<id>}. */
  public String startedBy() {
    return "schedule:" + scheduleId;
  }
}

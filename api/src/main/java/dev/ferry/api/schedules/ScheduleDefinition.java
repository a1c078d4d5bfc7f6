package dev.ferry.api.schedules;

import dev.ferry.model.runbook.Runbook;
import java.time.Instant;

/**
 * A rehearsal schedule as it was created: which app's runbook to rehearse and when; what its
 * Temporal schedule is built from, and what the ledger keeps of it.
 *
 * @param scheduleId {@code schedule-<app>-<8 hex>}, also the Temporal schedule's id
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

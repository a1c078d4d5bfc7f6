package dev.ferry.model.rehearsal;

import dev.ferry.model.runbook.Runbook;

/**
 * The input of {@code RehearsalWorkflow}.
 *
 * @param runbook the app's runbook, as for a migration (secret references only)
 * @param startedBy who started it: the API user, or {@code schedule:<id>} when a schedule did
 * @param scheduleId the schedule that fired it, or {@code null} when started by hand
 * @param freshSnapshot {@code true} to take a new snapshot of the source; {@code false} to reuse
 *     the newest one a worker still holds
 */
public record RehearsalRequest(Runbook runbook, String startedBy, String scheduleId, boolean freshSnapshot) {}

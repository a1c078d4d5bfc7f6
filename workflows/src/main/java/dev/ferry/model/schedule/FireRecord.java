package dev.ferry.model.schedule;

import java.time.Instant;

/**
 * What one fire of a schedule did: started a rehearsal, or skipped it and why.
 *
 * @param at when the schedule acted
 * @param scheduledFor the fire time it acted on; {@code null} for a trigger by hand
 * @param trigger {@code schedule}, or {@code trigger by <user>}
 * @param rehearsalId the rehearsal it started, or {@code null}
 * @param reason why it skipped or failed to start; for a started rehearsal, how that ended once
 *     it has ({@code succeeded}, {@code failed: ...}), else {@code null}
 */
public record FireRecord(Instant at, Instant scheduledFor, String trigger, Result result, String rehearsalId, String reason) {
  public enum Result {
    /** A rehearsal was started. */
    STARTED,
    /** Nothing was started: a rehearsal or migration of the app was still running. */
    SKIPPED,
    /** Temporal refused to start the rehearsal. */
    FAILED,
    /** Asked of Temporal's native schedule, which decides on its own (overlap policy SKIP). */
    REQUESTED
  }

  public FireRecord withReason(String newReason) {
    return new FireRecord(at, scheduledFor, trigger, result, rehearsalId, newReason);
  }
}

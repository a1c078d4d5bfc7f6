package dev.ferry.api.schedules;

import java.time.Instant;

/**
 * What one fire of a schedule did: started a rehearsal, or skipped and why.
 *
 * @param at when the schedule acted (for a fire Temporal skipped, its fire time)
 * @param scheduledFor the fire time of the schedule's spec it acted on; for a trigger, the time
 *     of the trigger; {@code null} when not known
 * @param trigger {@code schedule} (a fire time of its spec), {@code trigger by <user>} (through
 *     Ferry), or {@code trigger} (from the Temporal UI or CLI)
 * @param rehearsalId the rehearsal it started (also one that stopped at its own overlap check), or
 *     {@code null} when Temporal started none
 * @param reason why it skipped (naming the run that was running); for a started rehearsal, how
 *     that ended once it has ({@code succeeded}, {@code failed}, {@code cancelled}), else {@code null}
 */
public record FireRecord(Instant at, Instant scheduledFor, String trigger, Result result, String rehearsalId, String reason) {
  public static final String SCHEDULE = "schedule";

  public enum Result {
    /** A rehearsal was started and rehearses. */
    STARTED,
    /**
     * Nothing was rehearsed: Temporal skipped the fire (overlap policy SKIP: the schedule's last
     * rehearsal still ran), or the rehearsal it started found a migration or another rehearsal
     * of the app running and stopped at once.
     */
    SKIPPED,
    /** Asked of Temporal, which had not acted on it when Ferry stopped waiting. */
    REQUESTED
  }

  public FireRecord withTrigger(String newTrigger) {
    return new FireRecord(at, scheduledFor, newTrigger, result, rehearsalId, reason);
  }
}

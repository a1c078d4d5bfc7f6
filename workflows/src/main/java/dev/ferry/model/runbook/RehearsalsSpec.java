package dev.ferry.model.runbook;

import java.time.Duration;

/**
 * The cutover budget (runbook section {@code rehearsals}): the gate before the write downtime
 * ({@code start} in single-phase, {@code cutover} in multi-phase) shows what recent rehearsals
 * measured and refuses approval, unless an approver overrides it with a comment, when the latest
 * rehearsal failed, is older than {@code maxAge}, or estimated more downtime than {@code
 * maxDowntime}.
 *
 * @param maxDowntime the write downtime the cutover may cost, or {@code null} for no limit
 * @param maxAge how old the latest rehearsal may be ({@link #DEFAULT_MAX_AGE} when not given)
 */
public record RehearsalsSpec(Duration maxDowntime, Duration maxAge) {
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(7);
}

package dev.ferry.model.runbook;

import java.time.Duration;

/**
 * How a multi-phase run keeps the target in sync until the cutover.
 *
 * @param method {@code trigger} (change capture by triggers: works on Heroku, needs only table
 *     ownership) or {@code logical} (native publication and subscription)
 * @param maxLag the cutover gate opens once the target is at most this far behind (the age of
 *     the oldest change not yet applied)
 * @param catchUpTimeout how long the run waits for the lag to come under {@code maxLag} before it
 *     fails
 */
public record SyncSpec(String method, Duration maxLag, Duration catchUpTimeout) {
  public static final String TRIGGER = "trigger";
  public static final String LOGICAL = "logical";
  public static final Duration DEFAULT_MAX_LAG = Duration.ofSeconds(30);
  public static final Duration DEFAULT_CATCH_UP_TIMEOUT = Duration.ofHours(24);
}

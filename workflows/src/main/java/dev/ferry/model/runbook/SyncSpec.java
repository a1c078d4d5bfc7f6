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
 * @param replicationRole for {@code logical} only: how the target's subscription logs in to the
 *     source. {@link #PER_RUN_ROLE} (the default): as a role Ferry creates for the run, with the
 *     least rights the subscription needs and a password that only the worker ever knows;
 *     {@link #SOURCE_CREDENTIAL}: with the runbook's own source credential, whose password the
 *     target then keeps in {@code pg_subscription} until the drain (the fallback for sources
 *     where Ferry's credential may not create roles). {@code null} for {@code trigger}.
 */
public record SyncSpec(String method, Duration maxLag, Duration catchUpTimeout, String replicationRole) {
  public static final String TRIGGER = "trigger";
  public static final String LOGICAL = "logical";
  public static final String PER_RUN_ROLE = "per-run";
  public static final String SOURCE_CREDENTIAL = "source-credential";
  public static final Duration DEFAULT_MAX_LAG = Duration.ofSeconds(30);
  public static final Duration DEFAULT_CATCH_UP_TIMEOUT = Duration.ofHours(24);
}

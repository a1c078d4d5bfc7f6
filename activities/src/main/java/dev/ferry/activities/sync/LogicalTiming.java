package dev.ferry.activities.sync;

import java.time.Duration;

/**
 * How often the logical sync looks and how long it waits; the tests shorten them.
 *
 * @param tick between two looks at the subscription (and heartbeats)
 * @param failuresWithoutProgress worker errors in a row, with nothing advancing, after which the
 *     subscription is deemed stuck (PostgreSQL restarts a failed worker every few seconds: a
 *     conflict it cannot get past fails again and again)
 * @param quiet how long a drain watches the source's write counters before it believes nobody
 *     writes: more than the second a writing session may keep its counts to itself
 * @param writesFor how long a drain may keep seeing writes on the source before it says the
 *     source is not frozen (statistics arrive up to ~10 s late from an idle session)
 * @param slotReleaseTries looks, a tick apart, for a replication slot to be released
 * @param rearmAfter how long the subscription may stay disconnected with a password Ferry gave its
 *     per-run role before Ferry gives it a new one (a safety net: someone changed it). More than
 *     the time PostgreSQL takes to start a subscription's worker again (it waits {@code
 *     wal_retrieve_retry_interval}, 5 s by default), or the two would chase each other
 */
record LogicalTiming(
    Duration tick, int failuresWithoutProgress, Duration quiet, Duration writesFor, int slotReleaseTries, Duration rearmAfter) {
  static final LogicalTiming DEFAULT =
      new LogicalTiming(Duration.ofSeconds(2), 5, Duration.ofSeconds(3), Duration.ofSeconds(60), 30, Duration.ofSeconds(60));
}

package dev.ferry.model.sync;

import java.time.Instant;

/**
 * How far the target is behind the source.
 *
 * @param pendingChanges changes captured and not yet applied (trigger), or -1 when unknown
 * @param lagBytes WAL bytes not yet applied (logical), or -1 when unknown
 * @param lagMillis age of the oldest change not yet applied (0 when none is pending; {@link
 *     Long#MAX_VALUE} when it cannot be told, which never passes a threshold)
 */
public record SyncLag(long pendingChanges, long lagBytes, long lagMillis, Instant measuredAt) {}

package dev.ferry.model.sync;

import dev.ferry.model.database.SequenceSync;

/**
 * A drain that also brought the sequences across, on its own sessions, once nothing was pending
 * (the source frozen, every writer gone): the step sync sequences without an activity of its own.
 *
 * @param lag the final lag (nothing pending)
 * @param sequences the sequences set, already current and ahead on the target
 */
public record Drained(SyncLag lag, SequenceSync sequences) {}

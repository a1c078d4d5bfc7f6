package dev.ferry.activities.copy;

import java.time.Duration;

/**
 * How the copy cuts and paces its work. Production uses {@link #DEFAULT}; tests make tables split
 * at a few megabytes.
 *
 * @param splitBytes a table at least this big, with an integer first primary-key column, is split
 *     into key ranges that copy in parallel (smaller ones are copied whole, truncated and loaded
 *     with {@code COPY FREEZE} in one transaction)
 * @param chunkBytes about how much of such a table one range holds
 * @param splitOverShare such tables are split only when, copied whole, they would leave the
 *     busiest copier with more than this many times its fair share of the bytes (0: always)
 * @param maxChunks at most this many ranges per table
 * @param idlePoll how often a copier with nothing to take looks again
 * @param maxRecopies how often a chunk whose check differs is copied again before the copy fails
 */
record CopyTuning(
    long splitBytes, long chunkBytes, double splitOverShare, int maxChunks, Duration idlePoll, int maxRecopies) {
  static final CopyTuning DEFAULT =
      new CopyTuning(1L << 30, 256L << 20, 1.25, 256, Duration.ofMillis(100), 2);
}

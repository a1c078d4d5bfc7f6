package dev.ferry.model;

import dev.ferry.model.database.VerifyCheckpoint;

/**
 * What a long activity has done so far; it heartbeats this, the API shows it, and a retry
 * resumes from it.
 *
 * @param tablesDone tables finished (dumped, restored or compared)
 * @param tablesTotal tables in all, or 0 while not yet known
 * @param bytes bytes written or read so far
 * @param current what the activity works on now, such as a table name
 * @param checkpoint where verification stands (verify only; {@code null} otherwise): a retry
 *     after a crash resumes from it
 */
public record Progress(
    long tablesDone, long tablesTotal, long bytes, String current, VerifyCheckpoint checkpoint) {

  public static Progress of(long tablesDone, long tablesTotal, long bytes, String current) {
    return new Progress(tablesDone, tablesTotal, bytes, current, null);
  }
}

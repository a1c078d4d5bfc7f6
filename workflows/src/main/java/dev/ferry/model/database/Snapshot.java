package dev.ferry.model.database;

/**
 * A finished {@code pg_dump -Fd} on one worker host's disk.
 *
 * @param hostTaskQueue the task queue only that host's worker polls: restore and discard must run
 *     there, where the files are
 * @param directory the dump directory on that host
 * @param bytes size of the dump on disk (compressed)
 * @param tables tables whose data the dump holds
 */
public record Snapshot(String hostTaskQueue, String directory, long bytes, int tables) {}

package dev.ferry.model.runbook;

/**
 * How the snapshot and the restore run.
 *
 * @param jobs parallel jobs for {@code pg_dump -j} and {@code pg_restore -j}; {@code null} means
 *     as many as the worker has cores
 */
public record SnapshotSpec(Integer jobs) {
  public static final SnapshotSpec DEFAULT = new SnapshotSpec(null);
}

package dev.ferry.activity;

import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface SnapshotActivities {
  /**
   * Dumps the source with {@code pg_dump -Fd -j N} into a directory on this worker's host, named
   * after the workflow and the request's idempotency key, and returns the host's own task queue so the restore runs where the
   * files are. Heartbeats {@code Progress} (tables dumped, bytes written).
   *
   * <p>Idempotent: a retry with the same key reuses a dump already finished, and deletes and
   * redoes a partial one (after ending any pg_dump of that key still connected to the source).
   */
  Snapshot dumpDatabase(SnapshotRequest request);

  /** Deletes a snapshot's files. Idempotent: deleting what is gone succeeds. */
  void discardSnapshot(Snapshot snapshot);
}

package dev.ferry.activity;

import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface RestoreActivities {
  /**
   * Restores a snapshot into the target with {@code pg_restore -j N --exit-on-error --no-owner
   * --no-privileges}. Must run on the snapshot's host task queue. Heartbeats {@code Progress}
   * (tables restored, bytes).
   *
   * <p>Idempotent: it first ends any pg_restore with the same idempotency key still connected to
   * the target, then
   * drops what the snapshot would create ({@code --clean --if-exists}) before creating it, so a
   * retry after a crash never duplicates rows. Final failure: {@code RestoreFailed}, with the
   * error pg_restore stopped on.
   */
  RestoreResult restoreDatabase(RestoreRequest request);
}

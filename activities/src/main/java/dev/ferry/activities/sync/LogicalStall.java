package dev.ferry.activities.sync;

import java.util.Objects;

/**
 * Tells a subscription that is stuck from one that is slow. PostgreSQL restarts a failed
 * subscription worker after a few seconds, so a transient failure (the source restarting)
 * costs one error and the next attempt makes progress; a conflict the subscriber cannot get
 * past (a row already on the target, a column it lacks) fails the same way every time. So:
 * stuck when the workers' error count has risen {@code limit} times with no progress between.
 * Progress is whatever the caller watches: the confirmed WAL position, the tables' copy states.
 */
final class LogicalStall {
  private final int limit;
  private long errorsAtProgress = -1;
  private Object lastProgress;

  LogicalStall(int limit) {
    this.limit = limit;
  }

  /** Records a look; true when the errors since the last progress reach the limit. */
  boolean stuck(long errors, Object progress) {
    if (errorsAtProgress < 0 || !Objects.equals(progress, lastProgress) || errors < errorsAtProgress) {
      errorsAtProgress = errors;
      lastProgress = progress;
      return false;
    }
    return errors - errorsAtProgress >= limit;
  }

  long failures(long errors) {
    return errors - errorsAtProgress;
  }
}

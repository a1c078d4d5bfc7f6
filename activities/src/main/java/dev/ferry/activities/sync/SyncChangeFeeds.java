package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.ChangeFeed;
import dev.ferry.model.Errors;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import io.temporal.failure.ApplicationFailure;

/**
 * The change feed of a run's sync, for its pre-verification: the trigger method's own capture,
 * or the keys the logical method's source writes to its WAL, read beside the subscription.
 */
public final class SyncChangeFeeds implements ChangeFeed.Factory {
  @Override
  public ChangeFeed of(SyncRequest sync, String verifySchema) {
    if (sync == null) {
      return ChangeFeed.FROZEN;
    }
    // The names the sync's own objects carry (derived from its key alone).
    SyncSession names = new SyncSession(sync, null, null, "");
    return switch (sync.method()) {
      case SyncSpec.TRIGGER -> new TriggerChangeFeed(names.schema());
      case SyncSpec.LOGICAL -> new LogicalChangeFeed(LogicalChangeFeed.schemaFor(names), names.slot(), verifySchema);
      default ->
          throw ApplicationFailure.newNonRetryableFailure(
              "sync.method " + sync.method() + " is not trigger or logical", Errors.SYNC_REFUSED);
    };
  }
}

package dev.ferry.activity;

import dev.ferry.model.RunEvent;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Ferry's run ledger (a PostgreSQL database the API reads to list runs and their audit
 * events). The workflow records every event through here, so runs started from the Temporal UI
 * or CLI are in the ledger as well as those the API started.
 */
@ActivityInterface
public interface LedgerActivities {
  /**
   * Records one event and updates the run's row (state, app, kind; created on the first event
   * of a run the API did not start).
   *
   * <p>Idempotent on {@code (runId, seq)}: recording the same event again changes nothing, so
   * retries are safe. The run's state only moves forward: an event with a lower {@code seq} than
   * one already recorded does not change it, and a finished run's state never changes.
   * Retryable when the ledger database cannot be reached; nothing it raises is final.
   */
  @ActivityMethod
  void recordRunEvent(RunEvent event);
}

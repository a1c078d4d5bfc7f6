package dev.ferry.activities.sync;

import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;

/**
 * One way of keeping the target in sync with the source: {@link TriggerSync} (change capture by
 * triggers; works on Heroku) or {@link LogicalSync} (native publication and subscription).
 * {@link SyncActivitiesImpl} resolves the databases and calls the runbook's method. Every call
 * must be idempotent: Temporal retries it after a crash, possibly on another worker.
 */
interface SyncMethod {
  /**
   * Everything {@link #start} would refuse, all at once, with nothing changed; and what the
   * approver should know. The same checks {@link #start} makes before it changes anything.
   */
  SyncCheck check(SyncSession session);

  /** Installs capture, copies schema and data consistently with it. Heartbeats progress. */
  SyncSetup start(SyncSession session);

  /**
   * After a streamed initial copy ({@code copyKey}): keeps only the captured changes the copy
   * lacks. The trigger method's; no other method leaves the copy to the workflow.
   */
  default SyncSetup adoptCopy(SyncSession session, String copyKey) {
    throw io.temporal.failure.ApplicationFailure.newNonRetryableFailure(
        "sync.method " + session.request().method() + " copies its own data; it has no streamed copy to adopt",
        dev.ferry.model.Errors.SYNC_REFUSED);
  }

  /** Applies changes until the activity is cancelled; heartbeats the lag. */
  void apply(SyncSession session);

  /** How far behind the target is. Reads only. */
  SyncLag lag(SyncSession session);

  /**
   * With the source frozen: applies what is left until nothing is pending, brings the large
   * objects across ({@link LargeObjects}), then runs {@code atTheEnd} on its two sessions.
   */
  SyncLag drain(SyncSession session, AtTheDrain atTheEnd);

  /** Removes everything the sync installed on both sides; removing what is gone succeeds. */
  void stop(SyncSession session);
}

package dev.ferry.activity;

import dev.ferry.model.sync.Drained;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.activity.ActivityInterface;

/**
 * Continuous sync for the multi-phase strategy (implemented by the sync work; the workflow
 * drives it).
 *
 * <p>The workflow calls {@link #startSync}, then runs {@link #applyChanges} in the background
 * while it polls {@link #measureLag} until the lag is under the runbook's threshold and through
 * the cutover gate; after freezing the source it cancels {@code applyChanges} and calls {@link
 * #drain}. {@link #stopSync} is the compensation of {@code startSync}, registered before it, and
 * the teardown at decommission.
 */
@ActivityInterface
public interface SyncActivities {
  /**
   * Finds, before anything is changed, everything the request's method would refuse later (at
   * {@link #startSync}) about these databases and credentials, all at once and by name; and what
   * the approver should know. Reads only (a setting on a session of its own at most); safe to
   * retry. Fails only when a database cannot be reached or resolved.
   */
  SyncCheck checkSync(SyncRequest request);

  /**
   * Installs change capture on the source, copies the schema and the data consistently with it,
   * and starts applying changes. Long; heartbeats the copy's progress. Idempotent: a retry
   * reuses or redoes its own partial work.
   */
  SyncSetup startSync(SyncRequest request);

  /**
   * Applies captured changes to the target until cancelled, heartbeating the lag. Idempotent
   * and safe to re-run after a crash.
   */
  void applyChanges(SyncRequest request);

  /**
   * The trigger method after the workflow streamed the initial copy ({@link
   * dev.ferry.model.sync.SyncRequest#initialCopy()} {@code stream}): drops the captured changes
   * each table's copy already holds (a change is kept only when the snapshot that table's rows
   * were read at did not see its transaction), gives the target's planner statistics, and returns
   * the setup. Reads which snapshot each table came from in the copy's bookkeeping ({@code
   * copyKey}), which must still be there. Idempotent.
   */
  SyncSetup adoptCopy(SyncRequest request, String copyKey);

  /** How far behind the target is now. Reads only. */
  SyncLag measureLag(SyncRequest request);

  /**
   * With the source frozen: applies what is left until nothing is pending, brings the large
   * objects created, changed or removed since the initial copy across, and returns the final lag
   * (zero). Fails when changes keep arriving (the source is not frozen). The logical method ends
   * its stream here (subscription and slot dropped, the run's replication role locked): nothing
   * can arrive from a frozen source. Idempotent: a retry after a crash gives the same result.
   */
  SyncLag drain(SyncRequest request);

  /**
   * {@link #drain}, then, on the drain's own sessions once nothing is pending and every writer is
   * gone, the sequences moved to the source's values (as {@code SequenceActivities.syncSequences}
   * does): one activity and two sessions fewer in the write downtime. Idempotent like both.
   */
  Drained drainWithSequences(SyncRequest request);

  /**
   * Removes everything the sync installed (triggers, change tables, Ferry's schema, publication,
   * subscription, replication slot). Idempotent: removing what is gone succeeds.
   */
  void stopSync(SyncRequest request);
}

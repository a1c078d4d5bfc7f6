package dev.ferry.activity;

import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.ActivityInterface;

/**
 * The streaming copy ({@code snapshot.method: stream}): every table copied from one exported
 * snapshot of the source straight into the target with {@code COPY … TO STDOUT} → {@code COPY …
 * FROM STDIN}, no files, spread over the workers.
 *
 * <p>The workflow starts {@link #holdSnapshot} (in the background for the copy's duration, on the loop queue) and
 * {@link #planCopy} (which waits for the holder's snapshot), then {@code jobs} × {@link
 * #copyTables} at once, on any workers of the shared queue, then calls {@link #finishCopy}, {@link
 * #verifyCopy} and {@link #endCopy}. The plan and every table's and chunk's progress live in a bookkeeping schema on the
 * target ({@code ferry_copy_<tag>}), not in Temporal: nothing here grows with the table count.
 * {@link #endCopy} is also the copy's compensation.
 */
@ActivityInterface
public interface CopyActivities {
  /**
   * Holds the copy's snapshot. First claims the target for this run (it must hold nothing of its
   * own, as for a restore: else {@code TargetNotEmpty}; a later epoch finds its own claim) and
   * creates the bookkeeping schema; then a repeatable-read transaction on the source exports the
   * snapshot with {@code pg_export_snapshot()}, published in the bookkeeping under the request's
   * epoch. Runs
   * until cancelled, heartbeating every second and probing its session; returns or fails only when
   * the snapshot is lost (its session or its worker died), which the workflow sees within the
   * heartbeat timeout and answers with a new epoch. Not retried: a new snapshot is the workflow's
   * decision. Final failure {@code SnapshotRefused} when the source cannot export one.
   */
  void holdSnapshot(CopyRequest request);

  /**
   * Plans the copy at the epoch's snapshot (waiting for its holder to publish it): the schema
   * before the data ({@code pg_dump --schema-only --snapshot}, its pre-data restored), every table
   * with data, large ones split into primary-key ranges, and the indexes to build per table. At a
   * later epoch it keeps what the lost snapshot's copy finished when that is exact (see the README)
   * and starts the rest again. Idempotent. Final failure {@code SnapshotRefused} when the source
   * refuses {@code SET TRANSACTION SNAPSHOT}.
   */
  CopyPlan planCopy(CopyRequest request);

  /**
   * One copier: takes work from the bookkeeping until none is left — a chunk to copy (streamed
   * and hashed as it passes, committed with its bookkeeping row in one transaction), an index to
   * build once its table's data is in, a table to check once its indexes are built (its rows read
   * back from the target and hashed the same way; a chunk that differs is copied again, and one
   * that keeps differing fails the copy, {@code VerificationFailed}, naming the table and key
   * range). Heartbeats its progress; a retry (same copier) takes its own unfinished work back.
   */
  void copyTables(CopyRequest request);

  /**
   * After every table is checked: the primary-key and unique constraints over the indexes built,
   * the rest of the schema (foreign keys, triggers, …; pg_restore's post-data), sequences, large
   * objects and materialized views. Needs no snapshot. Idempotent.
   */
  CopyResult finishCopy(CopyRequest request);

  /**
   * What the copy proved, as a verification report: every table checked as it was copied (counts,
   * not a list), the schema, sequences and large objects compared. Reads only.
   */
  VerificationReport verifyCopy(CopyRequest request);

  /**
   * Ends the copy's sessions on both sides (the snapshot's holder too: an open transaction holds
   * back the source's vacuum) and drops the bookkeeping schema. What was copied stays in the
   * target, claimed by the run. Idempotent; the copy's compensation.
   */
  void endCopy(CopyRequest request);
}

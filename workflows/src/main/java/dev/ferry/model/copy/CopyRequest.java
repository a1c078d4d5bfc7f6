package dev.ferry.model.copy;

import dev.ferry.model.database.DatabasePair;

/**
 * One call about a run's streaming copy. Nothing in it grows with the number of tables: the
 * copy's plan and progress live in its bookkeeping schema on the target ({@code
 * ferry_copy_<tag>}), where every worker finds them.
 *
 * @param idempotencyKey the same for every call about this copy (the workflow draws it with
 *     {@code Workflow.randomUUID()}); names the bookkeeping schema and the copy's sessions, so a
 *     retry on any worker finds its own work
 * @param databases the two sides, as references
 * @param jobs copiers working at once (tables copied and indexes built in parallel), or {@code
 *     null} for {@link #DEFAULT_COPIERS} copiers, each tool's jobs as many as the worker has cores
 * @param mode {@link #FROZEN} (single-phase: the source takes no writes) or {@link #CAPTURED}
 *     (the trigger method's initial copy: the source takes writes, which the capture records)
 * @param epoch which snapshot of the source the copy works from: 1 for the first, one more each
 *     time the snapshot's holder was lost and the copy went on from a new one
 * @param copier which copier this is (0 for calls that are not a copier's)
 */
public record CopyRequest(
    String idempotencyKey, DatabasePair databases, Integer jobs, String mode, int epoch, int copier) {
  public static final String FROZEN = "frozen";
  public static final String CAPTURED = "captured";
  /** Copiers when the runbook sets no {@code snapshot.jobs}: the workflow cannot count a worker's cores. */
  public static final int DEFAULT_COPIERS = 4;

  /** How many copiers the workflow starts. */
  public int copiers() {
    return jobs == null ? DEFAULT_COPIERS : jobs;
  }

  public CopyRequest atEpoch(int next) {
    return new CopyRequest(idempotencyKey, databases, jobs, mode, next, 0);
  }

  public CopyRequest copier(int index) {
    return new CopyRequest(idempotencyKey, databases, jobs, mode, epoch, index);
  }
}

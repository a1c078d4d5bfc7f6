package dev.ferry.model.sync;

import dev.ferry.model.database.DatabasePair;

/**
 * @param idempotencyKey the same for every call about this run's sync (the workflow draws it
 *     with {@code Workflow.randomUUID()}); names what the sync installs, so a retry finds it
 * @param method {@code trigger} or {@code logical}
 * @param jobs tables copied at once by the initial copy, or {@code null} for the worker's cores
 * @param replicationRole for {@code logical}: {@code per-run} (the subscription logs in as a
 *     role made for the run) or {@code source-credential} (with the runbook's source
 *     credential); {@code null} in runs begun before per-run roles existed, which keep the
 *     source credential they subscribed with
 * @param initialCopy {@code stream} when the workflow runs the initial copy itself (the streaming
 *     copy, trigger method): {@code startSync} then only installs the capture, and {@code
 *     adoptCopy} finishes the setup after the copy; {@code null} (runs begun before, and {@code
 *     snapshot.method: dump}): {@code startSync} copies with pg_dump and pg_restore
 */
public record SyncRequest(
    String idempotencyKey, DatabasePair databases, String method, Integer jobs, String replicationRole, String initialCopy) {
  public SyncRequest(String idempotencyKey, DatabasePair databases, String method, Integer jobs, String replicationRole) {
    this(idempotencyKey, databases, method, jobs, replicationRole, null);
  }

  public SyncRequest(String idempotencyKey, DatabasePair databases, String method, Integer jobs) {
    this(idempotencyKey, databases, method, jobs, null, null);
  }

  /** Whether the workflow streams the initial copy (see {@code initialCopy}). */
  public boolean streamsInitialCopy() {
    return "stream".equals(initialCopy);
  }
}

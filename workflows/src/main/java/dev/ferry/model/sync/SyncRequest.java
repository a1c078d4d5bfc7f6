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
 */
public record SyncRequest(String idempotencyKey, DatabasePair databases, String method, Integer jobs, String replicationRole) {}

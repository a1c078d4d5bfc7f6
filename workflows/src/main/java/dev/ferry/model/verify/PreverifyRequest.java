package dev.ferry.model.verify;

import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.sync.SyncRequest;

/**
 * A pre-verification: the target proved chunk by chunk while the source still takes writes.
 *
 * @param idempotencyKey the same for every call about this pre-verification (the workflow draws
 *     it with {@code Workflow.randomUUID()}); names its bookkeeping ({@code ferry_verify_<12 hex>})
 *     so that every attempt, on any worker, finds it
 * @param databases the two sides
 * @param sync the sync that keeps the target up to date, whose captured changes say which rows
 *     changed since they were proved; {@code null} when nothing writes to the source (a frozen
 *     source: a copy that checks tables as it goes)
 */
public record PreverifyRequest(String idempotencyKey, DatabasePair databases, SyncRequest sync) {}

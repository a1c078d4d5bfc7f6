package dev.ferry.model.database;

/**
 * @param idempotencyKey the same for every attempt at this restore (the workflow draws it with
 *     {@code Workflow.randomUUID()}): a retry finds, and ends, the pg_restore an earlier attempt
 *     left running
 * @param jobs parallel restore jobs, or {@code null} for as many as the worker has cores
 */
public record RestoreRequest(
    String idempotencyKey, Snapshot snapshot, String targetUrlRef, Integer jobs) {}

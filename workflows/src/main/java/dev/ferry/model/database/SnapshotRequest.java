package dev.ferry.model.database;

/**
 * @param idempotencyKey the same for every attempt at this snapshot (the workflow draws it with
 *     {@code Workflow.randomUUID()}): a retry finds its own earlier work by it
 * @param jobs parallel dump jobs, or {@code null} for as many as the worker has cores
 */
public record SnapshotRequest(String idempotencyKey, String sourceUrlRef, Integer jobs) {}

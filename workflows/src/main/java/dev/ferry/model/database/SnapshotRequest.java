package dev.ferry.model.database;

/**
 * @param jobs parallel dump jobs, or {@code null} for as many as the worker has cores
 */
public record SnapshotRequest(String sourceUrlRef, Integer jobs) {}

package dev.ferry.model.database;

/**
 * @param jobs parallel restore jobs, or {@code null} for as many as the worker has cores
 */
public record RestoreRequest(Snapshot snapshot, String targetUrlRef, Integer jobs) {}

package dev.ferry.model.database;

/**
 * @param tables tables whose data was restored
 * @param bytes size of the dump that was restored (compressed)
 */
public record RestoreResult(int tables, long bytes) {}

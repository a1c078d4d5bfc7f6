package dev.ferry.model.runbook;

/**
 * Where the app goes.
 *
 * @param databaseUrl a reference to the target database URL, such as {@code
 *     ssm:/shop/DATABASE_URL}; the database must exist and hold no tables yet
 */
public record TargetSpec(String databaseUrl) {}

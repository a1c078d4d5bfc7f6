package dev.ferry.model.runbook;

/**
 * The target RDS instance.
 *
 * @param instanceId the DB instance identifier
 * @param restorePointBeforeCutover whether a manual snapshot is taken (and waited for) right
 *     before the cutover (false)
 */
public record RdsSpec(String instanceId, boolean restorePointBeforeCutover) {}

package dev.ferry.model.aws;

import java.time.Instant;

/**
 * A manual RDS snapshot: what {@code createRestorePoint} heartbeats while it waits and returns
 * once the snapshot is available.
 *
 * @param status RDS's status: {@code creating}, then {@code available}
 * @param createdAt when RDS took it ({@code null} while not known)
 */
public record RestorePoint(
    String snapshotId,
    String instanceId,
    String status,
    int percentProgress,
    Instant createdAt,
    int allocatedStorageGb,
    int polls) {}

package dev.ferry.activity;

import dev.ferry.model.aws.RestorePoint;
import dev.ferry.model.aws.RestorePointRequest;
import io.temporal.activity.ActivityInterface;

/**
 * The target RDS instance.
 *
 * <p>The workflow: with {@code rds.restorePointBeforeCutover}, call {@code
 * createRestorePoint(RestorePointRequest.forRun(rds.instanceId(), workflowId))} right before
 * the traffic shift. Nothing to compensate: the snapshot is the restore point and is kept.
 * Options: {@code ActivityCatalog.rdsSnapshot()}.
 */
@ActivityInterface
public interface RdsActivities {
  /**
   * Takes a manual snapshot ({@code CreateDBSnapshot}) and waits until it is {@code available},
   * heartbeating its status and progress. Looks first: a snapshot of that name from an earlier
   * attempt is waited for, not taken again. Final failures: {@code RdsInstanceNotFound}, {@code
   * RestorePointFailed} (the snapshot failed, belongs to another instance, or the snapshot quota
   * is reached), {@code AwsAccessDenied}; an instance busy with another operation, throttling and
   * outages are retried.
   */
  RestorePoint createRestorePoint(RestorePointRequest request);
}

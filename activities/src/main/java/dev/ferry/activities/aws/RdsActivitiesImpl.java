package dev.ferry.activities.aws;

import dev.ferry.activities.Pause;
import dev.ferry.activity.RdsActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.aws.RestorePoint;
import dev.ferry.model.aws.RestorePointRequest;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.rds.RdsClient;
import software.amazon.awssdk.services.rds.model.DBSnapshot;
import software.amazon.awssdk.services.rds.model.DbInstanceNotFoundException;
import software.amazon.awssdk.services.rds.model.DbSnapshotAlreadyExistsException;
import software.amazon.awssdk.services.rds.model.DbSnapshotNotFoundException;
import software.amazon.awssdk.services.rds.model.InvalidDbInstanceStateException;
import software.amazon.awssdk.services.rds.model.SnapshotQuotaExceededException;

/**
 * A manual snapshot of the target RDS instance as the restore point before cutover. Looks
 * before it creates, so a retry waits for the snapshot its earlier attempt started.
 */
public class RdsActivitiesImpl implements RdsActivities {
  private static final Logger log = LoggerFactory.getLogger(RdsActivitiesImpl.class);
  static final Duration POLL_INTERVAL = Duration.ofSeconds(15);
  private static final Set<String> FAILED = Set.of("failed", "deleting", "deleted", "incompatible-restore");

  private final Supplier<RdsClient> rds;
  private final Pause pause;
  private final Duration pollInterval;

  /** @param rds made on first use (see {@link AwsClients#rds()}) */
  public RdsActivitiesImpl(Supplier<RdsClient> rds, Pause pause, Duration pollInterval) {
    this.rds = rds;
    this.pause = pause;
    this.pollInterval = pollInterval;
  }

  public RdsActivitiesImpl(Supplier<RdsClient> rds) {
    this(rds, Pause.SLEEP, POLL_INTERVAL);
  }

  @Override
  public RestorePoint createRestorePoint(RestorePointRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    RdsClient client = AwsFailures.client("RDS", rds);
    DBSnapshot snapshot = describe(client, request).orElseGet(() -> create(client, request));
    int polls = 0;
    while (true) {
      check(request, snapshot);
      RestorePoint point = point(snapshot, polls);
      context.heartbeat(point);
      if ("available".equals(snapshot.status())) {
        log.info("RDS restore point {} of {} is available", request.snapshotId(), request.instanceId());
        return point;
      }
      pause.pause(pollInterval);
      polls++;
      snapshot =
          describe(client, request)
              .orElseThrow(
                  () ->
                      ApplicationFailure.newNonRetryableFailure(
                          "RDS snapshot " + request.snapshotId() + " of " + request.instanceId() + " disappeared while it was being taken",
                          Errors.RESTORE_POINT_FAILED));
    }
  }

  private static Optional<DBSnapshot> describe(RdsClient client, RestorePointRequest request) {
    try {
      return client.describeDBSnapshots(b -> b.dbSnapshotIdentifier(request.snapshotId())).dbSnapshots().stream().findFirst();
    } catch (DbSnapshotNotFoundException e) {
      return Optional.empty();
    } catch (SdkException e) {
      throw AwsFailures.map("RDS DescribeDBSnapshots " + request.snapshotId(), e, true);
    }
  }

  private static DBSnapshot create(RdsClient client, RestorePointRequest request) {
    try {
      DBSnapshot snapshot =
          client
              .createDBSnapshot(
                  b ->
                      b.dbInstanceIdentifier(request.instanceId())
                          .dbSnapshotIdentifier(request.snapshotId())
                          .tags(t -> t.key("created-by").value("ferry")))
              .dbSnapshot();
      log.info("RDS restore point {} of {} started", request.snapshotId(), request.instanceId());
      return snapshot;
    } catch (DbSnapshotAlreadyExistsException e) {
      // Another attempt got there between our look and our create.
      return describe(client, request).orElseThrow(() -> AwsFailures.map("RDS CreateDBSnapshot " + request.snapshotId(), e, true));
    } catch (DbInstanceNotFoundException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "rds.instanceId: RDS has no instance " + request.instanceId() + " that these AWS credentials can see",
          Errors.RDS_INSTANCE_NOT_FOUND);
    } catch (InvalidDbInstanceStateException e) {
      throw ApplicationFailure.newFailure(
          "RDS instance " + request.instanceId() + " cannot be snapshotted now (" + AwsFailures.message(e) + "); will retry",
          Errors.AWS_UNAVAILABLE);
    } catch (SnapshotQuotaExceededException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "RDS refused the restore point of " + request.instanceId() + ": the account's manual snapshot quota is reached; delete old snapshots",
          Errors.RESTORE_POINT_FAILED);
    } catch (SdkException e) {
      throw AwsFailures.map("RDS CreateDBSnapshot " + request.snapshotId(), e, true);
    }
  }

  private static void check(RestorePointRequest request, DBSnapshot snapshot) {
    if (!request.instanceId().equals(snapshot.dbInstanceIdentifier())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "an RDS snapshot named " + request.snapshotId() + " already exists, of instance "
              + snapshot.dbInstanceIdentifier() + ", not " + request.instanceId(),
          Errors.RESTORE_POINT_FAILED);
    }
    if (snapshot.status() != null && FAILED.contains(snapshot.status())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "RDS snapshot " + request.snapshotId() + " of " + request.instanceId() + " is " + snapshot.status() + "; delete it for Ferry to take a new one",
          Errors.RESTORE_POINT_FAILED);
    }
  }

  private static RestorePoint point(DBSnapshot s, int polls) {
    return new RestorePoint(
        s.dbSnapshotIdentifier(),
        s.dbInstanceIdentifier(),
        s.status(),
        s.percentProgress() == null ? 0 : s.percentProgress(),
        s.snapshotCreateTime(),
        s.allocatedStorage() == null ? 0 : s.allocatedStorage(),
        polls);
  }
}

package dev.ferry.activities.aws;

import static dev.ferry.testing.ActivityFailures.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activity.RdsActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.aws.RestorePoint;
import dev.ferry.model.aws.RestorePointRequest;
import dev.ferry.testing.RecordingPause;
import dev.ferry.testing.aws.FakeRds;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RdsActivitiesTest {
  static final RestorePointRequest REQUEST = RestorePointRequest.forRun("shop-db", "migration-shop-1a2b3c4d");

  FakeRds rds;
  RecordingPause pause = new RecordingPause();
  TestActivityEnvironment env;
  RdsActivities activities;

  @BeforeEach
  void start() throws Exception {
    rds = new FakeRds().instance("shop-db");
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new RdsActivitiesImpl(rds::client, pause, Duration.ofSeconds(15)));
    activities = env.newActivityStub(RdsActivities.class);
  }

  @AfterEach
  void stop() {
    env.close();
    rds.close();
  }

  @Test
  void restorePoint_isTakenAndWaitedForUntilAvailable() {
    rds.creatingAnswers(3);

    RestorePoint point = activities.createRestorePoint(REQUEST);

    assertThat(point.snapshotId()).isEqualTo("ferry-migration-shop-1a2b3c4d-cutover");
    assertThat(point.status()).isEqualTo("available");
    assertThat(point.percentProgress()).isEqualTo(100);
    assertThat(point.polls()).isEqualTo(4);
    assertThat(point.createdAt()).isEqualTo(Instant.parse("2026-11-22T12:00:00Z"));
    assertThat(point.allocatedStorageGb()).isEqualTo(20);
    assertThat(rds.snapshots().get(point.snapshotId()).status()).isEqualTo("available");
    assertThat(rds.calls()).containsExactly(
        "DescribeDBSnapshots", "CreateDBSnapshot",
        "DescribeDBSnapshots", "DescribeDBSnapshots", "DescribeDBSnapshots", "DescribeDBSnapshots");
    assertThat(pause.waits()).hasSize(4).containsOnly(Duration.ofSeconds(15));
  }

  @Test
  void aRetry_waitsForTheSnapshotItsEarlierAttemptStarted() {
    rds.existing(REQUEST.snapshotId(), "shop-db", "creating");

    RestorePoint point = activities.createRestorePoint(REQUEST);

    assertThat(point.status()).isEqualTo("available");
    assertThat(rds.calls()).doesNotContain("CreateDBSnapshot");
  }

  @Test
  void anUnknownInstance_isFinal() {
    var f = failure(
        () -> activities.createRestorePoint(new RestorePointRequest("shop-dbx", "ferry-x")),
        Errors.RDS_INSTANCE_NOT_FOUND,
        true);

    assertThat(f.getOriginalMessage()).contains("rds.instanceId", "shop-dbx");
  }

  @Test
  void aBusyInstance_isRetried() {
    rds.busyFor(1);

    failure(() -> activities.createRestorePoint(REQUEST), Errors.AWS_UNAVAILABLE, false);
    assertThat(activities.createRestorePoint(REQUEST).status()).isEqualTo("available");
  }

  @Test
  void aSnapshotThatFails_isFinal() {
    rds.failSnapshot(REQUEST.snapshotId()).creatingAnswers(1);

    var f = failure(() -> activities.createRestorePoint(REQUEST), Errors.RESTORE_POINT_FAILED, true);
    assertThat(f.getOriginalMessage()).contains("is failed", "delete it");
  }

  @Test
  void aSnapshotOfTheSameNameOfAnotherInstance_isFinal() {
    rds.existing(REQUEST.snapshotId(), "other-db", "available");

    failure(() -> activities.createRestorePoint(REQUEST), Errors.RESTORE_POINT_FAILED, true);
  }

  @Test
  void snapshotNames_areValidRdsIdentifiers() {
    assertThat(RestorePointRequest.forRun("db", "Migration_Shop--1A").snapshotId()).isEqualTo("ferry-migration-shop-1a-cutover");
    assertThat(RestorePointRequest.forRun("db", "x".repeat(300)).snapshotId()).hasSizeLessThanOrEqualTo(255).doesNotEndWith("-");
  }
}

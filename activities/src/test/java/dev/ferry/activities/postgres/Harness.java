package dev.ferry.activities.postgres;

import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * The PostgreSQL activities wired as a worker wires them, under Temporal's activity test
 * environment (workflow id {@code test-workflow-id}), against the shop databases.
 */
final class Harness implements AutoCloseable {
  static final String HOST_QUEUE = "ferry-host-test";
  /** What TestActivityEnvironment reports as the workflow id. */
  static final String WORKFLOW_ID = "test-workflow-id";

  final TestActivityEnvironment env = TestActivityEnvironment.newInstance();
  final SnapshotStore store;
  final String snapshotKey = UUID.randomUUID().toString();

  Harness(MigrationDatabases shop, Path workDir, Map<String, String> extraEnvironment) {
    Databases databases = shop.databases(extraEnvironment);
    PgTools tools = PgTools.locate(System.getenv());
    store = new SnapshotStore(workDir.resolve("snapshots"));
    env.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        new SnapshotActivitiesImpl(databases, tools, store, HOST_QUEUE),
        new RestoreActivitiesImpl(databases, tools, store),
        new VerifyActivitiesImpl(databases),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases));
  }

  PreflightReport preflight(MigrationDatabases shop) {
    return env.newActivityStub(PreflightActivities.class).auditDatabases(shop.references());
  }

  Snapshot dump() {
    return snapshots().dumpDatabase(new SnapshotRequest(snapshotKey, MigrationDatabases.SOURCE_REF, 2));
  }

  SnapshotActivities snapshots() {
    return env.newActivityStub(SnapshotActivities.class);
  }

  RestoreResult restore(Snapshot snapshot) {
    return env.newActivityStub(RestoreActivities.class)
        .restoreDatabase(new RestoreRequest("restore-" + snapshotKey, snapshot, MigrationDatabases.TARGET_REF, 2));
  }

  VerificationReport verify(MigrationDatabases shop) {
    return env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));
  }

  /** The pg_dump or pg_restore this JVM started that works on {@code directory}, if running. */
  static java.util.Optional<ProcessHandle> toolWorkingOn(Path directory) {
    return ProcessHandle.current()
        .descendants()
        .filter(p -> p.info().commandLine().map(c -> c.contains(directory.toString())).orElse(false))
        .findFirst();
  }

  @Override
  public void close() {
    env.close();
  }
}

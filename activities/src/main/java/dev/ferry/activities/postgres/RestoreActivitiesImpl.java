package dev.ferry.activities.postgres;

import dev.ferry.activity.RestoreActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Restores a snapshot from this worker's disk into the target with pg_restore. */
public class RestoreActivitiesImpl implements RestoreActivities {
  private static final Logger log = LoggerFactory.getLogger(RestoreActivitiesImpl.class);

  private final Databases databases;
  private final PgRestore restore;
  private final SnapshotStore store;
  private final TargetStatistics statistics;

  public RestoreActivitiesImpl(Databases databases, PgTools tools, SnapshotStore store) {
    this.databases = databases;
    this.restore = new PgRestore(databases, tools);
    this.statistics = new TargetStatistics(tools);
    this.store = store;
  }

  @Override
  public RestoreResult restoreDatabase(RestoreRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Snapshot snapshot = request.snapshot();
    Path directory = Path.of(snapshot.directory());
    if (store.finished(directory).isEmpty()) {
      // This host lost it (a new disk under the same host name): the workflow takes a new one.
      throw ApplicationFailure.newNonRetryableFailure(
          "the snapshot " + directory + " is not on this host", Errors.SNAPSHOT_MISSING);
    }
    Endpoint target = databases.resolve(Databases.TARGET, request.targetUrlRef());
    String workflowId = context.getInfo().getWorkflowId();
    int jobs = request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs();
    String applicationName = SnapshotActivitiesImpl.applicationName("ferry-restore", workflowId);
    restore.restore(
        new PgRestore.Job(
            target,
            workflowId,
            applicationName,
            directory,
            jobs,
            List.of(),
            true,
            // Released below, after the analysis: an attempt that fails in it is retried from the
            // start, and the target must still be this run's to restore into again.
            false,
            // A dump of the frozen source holds the write fence's triggers: the target gets none.
            WriteFence::isFenceEntry));
    // Under the restore's name: a retry's start ends what a dead attempt left running of it too.
    statistics.analyze(target, applicationName, jobs, () -> context.heartbeat(null));
    try (Connection c = databases.connect(target, "ferry-restore-claim")) {
      RestoreClaim.release(c);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
    log.info("restored {} tables from {}", snapshot.tables(), directory);
    return new RestoreResult(snapshot.tables(), snapshot.bytes());
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.activity.RestoreActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Restores a snapshot from this worker's disk into the target with pg_restore. */
public class RestoreActivitiesImpl implements RestoreActivities {
  private static final Logger log = LoggerFactory.getLogger(RestoreActivitiesImpl.class);

  private final Databases databases;
  private final PgTools tools;
  private final SnapshotStore store;

  public RestoreActivitiesImpl(Databases databases, PgTools tools, SnapshotStore store) {
    this.databases = databases;
    this.tools = tools;
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
    String applicationName = SnapshotActivitiesImpl.applicationName("ferry-restore", workflowId);
    // A pg_restore an earlier attempt of this run left running (its worker died) would race
    // this one: end it first.
    int orphans = databases.terminateSessions(target, applicationName);
    if (orphans > 0) {
      log.warn("ended {} session(s) of an earlier pg_restore of this run", orphans);
    }
    Set<String> targetsOwnExtensions = onTarget(target, c -> RestoreClaim.claim(c, target, workflowId));
    RestoreList.Written list = RestoreList.write(tools, directory, targetsOwnExtensions, line -> false);
    int jobs = request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs();

    List<String> command = new ArrayList<>();
    command.add(tools.command("pg_restore"));
    command.addAll(
        List.of(
            "--dbname=" + target.url().database(),
            "--jobs=" + jobs,
            // Stop at the first error instead of carrying on past it and reporting success.
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            // Drop what this dump creates before creating it: a retry after a crash starts from
            // a clean slate instead of duplicating rows. RestoreClaim made sure the target held
            // nothing but this run's own work, so nothing else is dropped.
            "--clean",
            "--if-exists",
            "--verbose",
            "--no-password",
            "--use-list=" + list.file(),
            directory.toString()));
    TableProgress progress = new TableProgress(directory);
    try {
      ToolRun.Outcome outcome =
          ToolRun.run(
              command,
              target.url().libpqEnvironment(applicationName),
              progress::accept,
              () ->
                  context.heartbeat(
                      Progress.of(progress.done(), snapshot.tables(), progress.bytes(), progress.current())));
      if (!outcome.succeeded()) {
        throw ToolErrors.classify("pg_restore", target, outcome, Errors.RESTORE_FAILED);
      }
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "pg_restore could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } catch (RuntimeException e) {
      // Failed, cancelled or timed out while pg_restore ran: it is killed; end its sessions too.
      databases.terminateSessionsQuietly(target, applicationName);
      throw e;
    } finally {
      RestoreList.delete(list);
    }
    onTarget(target, c -> {
      RestoreClaim.release(c);
      return null;
    });
    log.info("restored {} tables from {}", snapshot.tables(), directory);
    return new RestoreResult(snapshot.tables(), snapshot.bytes());
  }

  private interface TargetWork<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T onTarget(Endpoint target, TargetWork<T> work) {
    try (Connection c = databases.connect(target, "ferry-restore-claim")) {
      return work.run(c);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
  }
}

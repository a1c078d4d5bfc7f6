package dev.ferry.activities.postgres;

import dev.ferry.activity.SnapshotActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Dumps the source with pg_dump's directory format onto this worker's disk. */
public class SnapshotActivitiesImpl implements SnapshotActivities {
  private static final Logger log = LoggerFactory.getLogger(SnapshotActivitiesImpl.class);

  private final Databases databases;
  private final PgTools tools;
  private final SnapshotStore store;
  private final String hostTaskQueue;

  /**
   * @param hostTaskQueue the task queue only this host's worker polls, where the restore of
   *     this host's snapshots must run
   */
  public SnapshotActivitiesImpl(
      Databases databases, PgTools tools, SnapshotStore store, String hostTaskQueue) {
    this.databases = databases;
    this.tools = tools;
    this.store = store;
    this.hostTaskQueue = hostTaskQueue;
  }

  @Override
  public Snapshot dumpDatabase(SnapshotRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String key = request.idempotencyKey();
    Path directory = store.directoryFor(context.getInfo().getWorkflowId(), key);
    Optional<Snapshot> done = store.finished(directory);
    if (done.isPresent()) {
      log.info("reusing the finished snapshot in {}", directory);
      return done.get();
    }

    Endpoint source = databases.resolve(Databases.SOURCE, request.sourceUrlRef());
    String applicationName = applicationName("ferry-dump", context.getInfo().getWorkflowId());
    SnapshotStore.Lock lock;
    try {
      lock =
          store
              .lock(directory)
              .orElseThrow(
                  () ->
                      ApplicationFailure.newFailure(
                          "another attempt is still writing " + directory + " on this host",
                          Errors.STEP_FAILED));
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "cannot lock " + directory + ": " + e.getMessage(), Errors.SNAPSHOT_FAILED);
    }
    try (lock) {
      return dump(context, request, source, applicationName, directory);
    } catch (IOException e) {
      throw ApplicationFailure.newFailure("releasing the lock of " + directory + " failed: " + e.getMessage(), Errors.STEP_FAILED);
    }
  }

  private Snapshot dump(
      ActivityExecutionContext context,
      SnapshotRequest request,
      Endpoint source,
      String applicationName,
      Path directory) {
    // A pg_dump an earlier attempt of this run left running (its worker died) would keep
    // loading the source: end it before starting again.
    int orphans = databases.terminateSessions(source, applicationName);
    if (orphans > 0) {
      log.warn("ended {} session(s) of an earlier pg_dump of this run", orphans);
    }
    store.delete(directory);
    int tablesTotal = countTablesWithRows(source);
    int jobs = request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs();

    List<String> command = new ArrayList<>();
    command.add(tools.command("pg_dump"));
    command.addAll(
        List.of(
            "--format=directory",
            "--jobs=" + jobs,
            "--file=" + directory,
            "--verbose",
            "--no-password",
            // Wait for a table lock at most this long, then fail and retry, rather than hang.
            "--lock-wait-timeout=300000",
            // The source is frozen: its write fence is not the app's (its triggers are left out
            // at restore, see WriteFence.isFenceEntry).
            "--exclude-schema=" + WriteFence.SCHEMA));
    TableProgress progress = new TableProgress();
    try {
      Files.createDirectories(directory.getParent());
      ToolRun.runOrFail(
          "pg_dump", source, Errors.SNAPSHOT_FAILED, command, source.url().libpqEnvironment(applicationName),
          progress::accept,
          () -> context.heartbeat(Progress.of(progress.done(), tablesTotal, SnapshotStore.sizeOf(directory), progress.current())));
      int tables = countTableData(directory);
      Snapshot snapshot =
          new Snapshot(hostTaskQueue, directory.toString(), SnapshotStore.sizeOf(directory), tables);
      store.markFinished(snapshot);
      log.info("dumped {} tables, {} bytes into {}", tables, snapshot.bytes(), directory);
      return snapshot;
    } catch (IOException e) {
      store.delete(directory);
      // Most often a full disk: a person must make room, so retrying now would not help.
      throw ApplicationFailure.newNonRetryableFailure(
          "writing the dump into " + directory + " failed: " + e.getMessage(), Errors.SNAPSHOT_FAILED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      store.delete(directory);
      throw Activity.wrap(e);
    } catch (RuntimeException e) {
      // Cancelled, timed out or failed: leave no partial dump of production data behind, and
      // no session on the source (one waiting for a lock would wait on after pg_dump died).
      store.delete(directory);
      databases.terminateSessionsQuietly(source, applicationName);
      throw e;
    }
  }

  @Override
  public void discardSnapshot(Snapshot snapshot) {
    Path directory = Path.of(snapshot.directory());
    store.delete(directory);
    log.info("deleted snapshot {}", directory);
  }

  private int countTablesWithRows(Endpoint source) {
    try (Connection c = databases.connect(source, "ferry-snapshot")) {
      return Catalog.tablesWithRows(c).size();
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  /** Tables whose data the dump holds, from its table of contents. */
  private int countTableData(Path directory) throws IOException, InterruptedException {
    List<String> lines = new ArrayList<>();
    ToolRun.Outcome outcome =
        ToolRun.run(
            List.of(tools.command("pg_restore"), "--list", directory.toString()),
            Map.of(),
            lines::add,
            () -> {});
    if (!outcome.succeeded()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "pg_restore --list cannot read the dump in " + directory + ": " + outcome.lastLinesJoined(),
          Errors.SNAPSHOT_FAILED);
    }
    return (int) lines.stream().filter(l -> l.contains(" TABLE DATA ")).count();
  }

  /** {@code ferry-dump-<workflow id>}: every attempt of a run's dump or restore shares it. */
  static String applicationName(String prefix, String workflowId) {
    // application_name holds 63 bytes.
    String name = prefix + "-" + workflowId;
    return name.length() > 63 ? name.substring(0, 63) : name;
  }
}

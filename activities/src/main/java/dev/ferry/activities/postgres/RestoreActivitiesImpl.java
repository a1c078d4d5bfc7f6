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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Restores a snapshot from this worker's disk into the target with pg_restore. */
public class RestoreActivitiesImpl implements RestoreActivities {
  private static final Logger log = LoggerFactory.getLogger(RestoreActivitiesImpl.class);
  /** A table-of-contents line of an extension or of its comment: {@code 3; 3079 16390 EXTENSION - citext}. */
  private static final Pattern EXTENSION_ENTRY =
      Pattern.compile("^\\d+; \\d+ \\d+ (?:EXTENSION - |COMMENT - EXTENSION )(\\S+)( |$)");

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
    Path list = restoreList(directory, targetsOwnExtensions);
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
            "--use-list=" + list,
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
      deleteQuietly(list);
    }
    onTarget(target, c -> {
      RestoreClaim.release(c);
      return null;
    });
    log.info("restored {} tables from {}", snapshot.tables(), directory);
    return new RestoreResult(snapshot.tables(), snapshot.bytes());
  }

  /**
   * The dump's table of contents, less the extensions the target already has (and their
   * comments). Restoring those would drop the target's own copy ({@code --clean}) or fail on
   * it (seed 002's {@code extension "pg_stat_statements" already exists}, or {@code must be
   * owner of extension} for its comment). Everything else stays, so a real error still stops
   * the restore. Preflight has refused extensions installed in another schema than the source's.
   * {@code installed} are those the target had before this run's first restore: an extension an
   * earlier, dead attempt created is this run's, and is dropped and restored with the rest.
   */
  private Path restoreList(Path directory, Set<String> installed) {
    List<String> lines = new ArrayList<>();
    try {
      ToolRun.Outcome outcome =
          ToolRun.run(List.of(tools.command("pg_restore"), "--list", directory.toString()), Map.of(), lines::add, () -> {});
      if (!outcome.succeeded()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "pg_restore --list cannot read the dump in " + directory + ": " + outcome.lastLinesJoined(),
            Errors.RESTORE_FAILED);
      }
      List<String> kept = new ArrayList<>();
      for (String line : lines) {
        Matcher m = EXTENSION_ENTRY.matcher(line);
        boolean skip = m.find() && installed.contains(m.group(1));
        if (skip) {
          log.info("the target already has extension {}: not restoring it", m.group(1));
        }
        kept.add(skip ? ";" + line : line);
      }
      Path list = Files.createTempFile("ferry-restore-", ".list");
      Files.write(list, kept);
      return list;
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "pg_restore could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not delete {}: {}", file, e.getMessage());
    }
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

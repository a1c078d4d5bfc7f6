package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pg_restore of a dump directory into a claimed target, as every restore of Ferry's runs it (the
 * single-phase restore, the sync's initial copy): orphaned sessions of the run ended first, the
 * target claimed ({@link RestoreClaim}), the table of contents filtered ({@link RestoreList}),
 * {@code --clean --if-exists --exit-on-error}, progress heartbeated, and on any failure the tool
 * and its sessions ended.
 */
public final class PgRestore {
  private static final Logger log = LoggerFactory.getLogger(PgRestore.class);

  private final Databases databases;
  private final PgTools tools;

  public PgRestore(Databases databases, PgTools tools) {
    this.databases = databases;
    this.tools = tools;
  }

  /**
   * What to restore and how.
   *
   * @param runKey the claim's owner: every attempt of the run shares it (the workflow id)
   * @param sections pg_restore's {@code --section}s, none for all
   * @param createsTables whether these sections create the tables (a retry may then drop its
   *     run's earlier ones, see {@link RestoreClaim#claim(Connection, Endpoint, String, boolean)})
   * @param releaseClaim whether this restore finishes the run's restoring (the claim is removed)
   * @param leaveOut table-of-contents lines to leave out besides the target's own extensions
   */
  public record Job(
      Endpoint target,
      String runKey,
      String applicationName,
      Path directory,
      int jobs,
      List<String> sections,
      boolean createsTables,
      boolean releaseClaim,
      Predicate<String> leaveOut) {}

  /** Restores; returns how many tables' data the restored sections held. */
  public int restore(Job job) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Endpoint target = job.target();
    // A pg_restore an earlier attempt of this run left running (its worker died) would race
    // this one: end it first.
    int orphans = databases.terminateSessions(target, job.applicationName());
    if (orphans > 0) {
      log.warn("ended {} session(s) of an earlier pg_restore of this run", orphans);
    }
    Set<String> targetsOwnExtensions = onTarget(target, c -> RestoreClaim.claim(c, target, job.runKey(), job.createsTables()));
    RestoreList.Written list = RestoreList.write(tools, job.directory(), targetsOwnExtensions, job.leaveOut());
    List<String> command = new ArrayList<>();
    command.add(tools.command("pg_restore"));
    command.addAll(
        List.of(
            "--dbname=" + target.url().database(),
            "--jobs=" + job.jobs(),
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
            "--use-list=" + list.file()));
    job.sections().forEach(section -> command.add("--section=" + section));
    command.add(job.directory().toString());
    TableProgress progress = new TableProgress(job.directory());
    try {
      ToolRun.runOrFail(
          "pg_restore", target, Errors.RESTORE_FAILED, command, target.url().libpqEnvironment(job.applicationName()),
          progress::accept,
          () -> context.heartbeat(Progress.of(progress.done(), list.tablesWithData(), progress.bytes(), progress.current())));
    } catch (RuntimeException e) {
      // Failed, cancelled or timed out while pg_restore ran: it is killed; end its sessions too.
      databases.terminateSessionsQuietly(target, job.applicationName());
      throw e;
    } finally {
      RestoreList.delete(list);
    }
    if (job.releaseClaim()) {
      onTarget(target, c -> {
        RestoreClaim.release(c);
        return null;
      });
    }
    return list.tablesWithData();
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

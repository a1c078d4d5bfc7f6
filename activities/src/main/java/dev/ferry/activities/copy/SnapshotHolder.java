package dev.ferry.activities.copy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.RestoreClaim;
import dev.ferry.model.Errors;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the copy's snapshot: a read-only repeatable-read transaction on the source that exports
 * it and stays open while the copiers import it. First claims the target for the run (it must
 * hold nothing of its own, as for a restore) and creates the bookkeeping, both idempotent; then
 * publishes the snapshot in the bookkeeping,
 * heartbeats and probes its session every second until the workflow cancels it. Its session
 * ending (terminated, the network gone) fails it at the next probe, unless the copy is over (the
 * end step ends it, and may come before the cancel); its worker dying stops the heartbeats, and
 * Temporal fails it at the heartbeat timeout.
 */
final class SnapshotHolder {
  private static final Logger log = LoggerFactory.getLogger(SnapshotHolder.class);
  static final Duration PROBE_EVERY = Duration.ofSeconds(1);

  private final Databases databases;
  private final Pause pause;

  SnapshotHolder(Databases databases, Pause pause) {
    this.databases = databases;
    this.pause = pause;
  }

  void hold(CopyJob job) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String app = job.applicationName("holder");
    long t0 = System.nanoTime();
    try (Connection held = databases.connect(job.source(), app);
        Connection book = databases.connect(job.target(), app)) {
      // An earlier epoch's holder whose worker died may still be connected: its open transaction
      // would hold the source's vacuum back for nothing.
      try (var ps =
          held.prepareStatement(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  + " WHERE application_name = ? AND datname = current_database() AND pid <> pg_backend_pid()")) {
        ps.setString(1, app);
        ps.executeQuery().close();
      }
      log.debug("copy {}: holder connected in {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      try {
        // The target is the run's (empty before it, as for a restore), then the bookkeeping.
        // Creates no table: a later epoch's holder must not drop the earlier copy's partitioned tables.
        // A finished copy released its claim, and needs no snapshot: this holder was started
        // because the last one ended while a copier ran the finish. It publishes one all the same
        // (the plan waits for it) and leaves the target as the finish left it.
        if (!CopyBook.finished(book, job.schema())) {
          RestoreClaim.claim(book, job.target(), job.runKey(), false);
        }
        log.debug("copy {}: target claimed at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
        CopyBook.create(book, job.schema(), job.runKey());
        log.debug("copy {}: bookkeeping created at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      } catch (SQLException e) {
        throw Databases.failure(job.target(), e);
      }
      held.setAutoCommit(false);
      held.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      held.setReadOnly(true);
      String id;
      String visibility;
      try (Statement s = held.createStatement();
          ResultSet rs = s.executeQuery("SELECT pg_export_snapshot(), pg_current_snapshot()::text")) {
        rs.next();
        id = rs.getString(1);
        visibility = rs.getString(2);
      } catch (SQLException e) {
        throw refusedOrFailed(job, e);
      }
      try {
        CopyBook.publishSnapshot(book, job.schema(), job.epoch(), id, visibility);
      } catch (SQLException e) {
        throw Databases.failure(job.target(), e);
      }
      log.info("holding snapshot {} of {} for copy {} (epoch {})", id, job.source().describe(), job.tag(), job.epoch());
      try (Statement probe = held.createStatement()) {
        while (true) {
          // Throws once the workflow cancels the holder: the copy is done, or given up.
          context.heartbeat(job.epoch());
          try (ResultSet rs = probe.executeQuery("SELECT 1")) {
            rs.next();
          } catch (SQLException e) {
            if (copyIsOver(job)) {
              // The copy's end step ended this session before the workflow's cancel reached the
              // holder (it comes with the answer to a heartbeat): its snapshot is no longer
              // needed. Not a failure to log on a run that succeeded.
              log.info("copy {}: finished, its snapshot {} no longer held", job.tag(), id);
              return;
            }
            throw ApplicationFailure.newFailure(
                job.source().describe() + ": the session holding the copy's snapshot " + id + " ended: "
                    + e.getMessage(),
                Errors.DATABASE_UNREACHABLE);
          }
          pause.pause(PROBE_EVERY);
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(job.source(), e);
    }
  }

  /**
   * Whether the copy no longer needs its snapshot: it finished (its result is recorded), or its
   * bookkeeping is gone (the copy ended). Asked on a new session: the end step ends the holder's
   * own on both sides. {@code false} when the target cannot tell.
   */
  private boolean copyIsOver(CopyJob job) {
    try (Connection book = databases.connect(job.target(), "ferry-janitor")) {
      return !CopyBook.exists(book, job.schema()) || CopyBook.finished(book, job.schema());
    } catch (SQLException | RuntimeException e) {
      log.warn("copy {}: could not tell whether the copy is over: {}", job.tag(), e.getMessage());
      return false;
    }
  }

  /**
   * A source that cannot export a snapshot: final, and the dump method is the way. A lost
   * connection stays retryable.
   */
  static RuntimeException refusedOrFailed(CopyJob job, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    if (state.startsWith("08") || state.startsWith("57") || state.isEmpty()) {
      return Databases.failure(job.source(), e);
    }
    return ApplicationFailure.newNonRetryableFailure(
        job.source().describe() + " refuses to export a snapshot (pg_export_snapshot: " + Databases.firstLine(e.getMessage())
            + "); the streaming copy needs one. Migrate with snapshot.method: dump",
        Errors.SNAPSHOT_REFUSED);
  }
}

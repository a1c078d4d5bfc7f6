package dev.ferry.testing.process;

import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What a database shows of the step working on it, read from PostgreSQL's own views: the
 * signs a kill test waits for before it kills, so that the kill lands while the step runs.
 * Ferry's sessions name themselves {@code <what>-<run id>} ({@code ferry-dump-…}, {@code
 * ferry-restore-…}, {@code ferry-sync-apply-…}), so a test can tell its run's work apart.
 */
public final class DatabaseState {
  private DatabaseState() {}

  /**
   * Rows a {@code COPY} of {@code table} has moved so far in a session whose {@code
   * application_name} starts with {@code applicationPrefix} ({@code pg_stat_progress_copy}:
   * {@code COPY TO} for pg_dump on the source, {@code COPY FROM} for pg_restore on the
   * target); -1 when no such COPY runs.
   */
  public static long copyProgress(TestCluster cluster, String database, String applicationPrefix, String table) {
    return queryLong(
        cluster,
        database,
        "SELECT coalesce(max(p.tuples_processed), -1) FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid"
            + " WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            + " AND a.application_name LIKE ? AND p.relid = to_regclass(?)",
        applicationPrefix + "%",
        table);
  }

  /** Sessions of {@code application_name} {@code name} connected to the database. */
  public static long sessions(TestCluster cluster, String database, String name) {
    return queryLong(
        cluster,
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?",
        name);
  }

  /** Sessions of {@code application_name} {@code name} that wait for a lock. */
  public static long waitingForLock(TestCluster cluster, String database, String name) {
    return queryLong(
        cluster,
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?"
            + " AND wait_event_type = 'Lock'",
        name);
  }

  /** Sessions of {@code application_name} {@code name}, connected after {@code since}, that wait for a lock. */
  public static long waitingForLock(TestCluster cluster, String database, String name, java.time.Instant since) {
    return queryLong(
        cluster,
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?"
            + " AND wait_event_type = 'Lock' AND backend_start > ?::timestamptz",
        name,
        since.toString());
  }

  /**
   * One number from a query with text parameters. A session the run's freeze ended under it
   * (SQLSTATE 57P01: the freeze ends every session on the source, this probe's too) is asked
   * again on a new one.
   */
  public static long queryLong(TestCluster cluster, String database, String sql, String... parameters) {
    for (int attempt = 1; ; attempt++) {
      try {
        return queryOnce(cluster, database, sql, parameters);
      } catch (IllegalStateException e) {
        if (attempt == 5 || !endedByAdministrator(e)) {
          throw e;
        }
      }
    }
  }

  private static boolean endedByAdministrator(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && "57P01".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  private static long queryOnce(TestCluster cluster, String database, String sql, String... parameters) {
    try (Connection c = cluster.connect(database);
        var ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        ps.setString(i + 1, parameters[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** {@code application_name} of a Ferry session of this run: {@code <prefix>-<run id>}, cut to 63 bytes. */
  public static String applicationName(String prefix, String runId) {
    String name = prefix + "-" + runId;
    return name.length() > 63 ? name.substring(0, 63) : name;
  }
}

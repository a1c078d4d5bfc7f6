package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/** The copy's sessions: their settings, importing the snapshot, ending them. */
final class CopySessions {
  /**
   * Settings that fix the text of a row, on both sides alike, as the verification fixes it
   * ({@code ChunkChecksum.prepareSession}): the rows streamed out of the source and the row text
   * both sides checksum must be the same for the same values, whatever either server's defaults
   * (dates, intervals, time zone, floats, bytea, money).
   */
  private static final String ROW_TEXT =
      "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC';"
          + " SET extra_float_digits = 1; SET bytea_output = 'hex'; SET lc_monetary = 'C';"
          + " SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0";

  /**
   * The target's bulk-load settings, as pgcopydb's: a commit need not wait for its WAL flush (a
   * crash of the target loses a chunk and its bookkeeping row together, which the copy redoes),
   * and index builds get memory.
   */
  private static final String TARGET_LOAD =
      "; SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET lock_timeout = 0";

  /** What {@code pg_export_snapshot()} returns: hex groups and dashes, nothing to quote. */
  private static final Pattern SNAPSHOT_ID = Pattern.compile("[0-9A-Fa-f]+(-[0-9A-Fa-f]+)*");

  private CopySessions() {}

  static void prepareSource(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(ROW_TEXT);
    }
  }

  static void prepareTarget(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(ROW_TEXT + TARGET_LOAD);
    }
  }

  /**
   * Starts a read-only repeatable-read transaction on {@code c} that sees exactly what the
   * exported snapshot saw. Throws the server's error when the snapshot is gone (its holder ended)
   * or the server refuses the import.
   */
  static void importSnapshot(Connection c, String snapshotId) throws SQLException {
    if (!SNAPSHOT_ID.matcher(snapshotId).matches()) {
      throw new IllegalStateException("not a snapshot id: " + snapshotId);
    }
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
    c.setReadOnly(true);
    try (Statement s = c.createStatement()) {
      s.execute("SET TRANSACTION SNAPSHOT '" + snapshotId + "'");
    }
  }

  /** Ends an imported snapshot's transaction; the connection goes back to autocommit. */
  static void release(Connection c) throws SQLException {
    c.rollback();
    c.setAutoCommit(true);
    c.setReadOnly(false);
  }

  /** SQLSTATE of {@code invalid snapshot identifier}: the exporting transaction has ended. */
  static boolean snapshotGone(SQLException e) {
    return "22023".equals(e.getSQLState()) && String.valueOf(e.getMessage()).contains("snapshot");
  }

  /**
   * Ends the sessions on {@code endpoint} whose application name starts with {@code prefix},
   * but not {@code except}'s: a dead worker's copier or holder, whose transaction would go on
   * loading the server (or, for a holder, hold back its vacuum). Returns how many.
   */
  static int endSessions(Databases databases, Endpoint endpoint, String prefix, String except) {
    try (Connection c = databases.connect(endpoint, "ferry-janitor");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    + " WHERE left(application_name, length(?)) = ? AND application_name <> ?"
                    + " AND datname = current_database() AND pid <> pg_backend_pid()")) {
      ps.setString(1, prefix);
      ps.setString(2, prefix);
      ps.setString(3, except == null ? "" : except);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }

  /** Whether a session of {@code applicationName} is connected to the endpoint's database. */
  static boolean sessionAlive(Connection c, String applicationName) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()")) {
      ps.setString(1, applicationName);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }
}

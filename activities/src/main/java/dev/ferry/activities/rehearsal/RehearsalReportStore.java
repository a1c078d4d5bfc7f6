package dev.ferry.activities.rehearsal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.model.RunKind;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The rehearsal reports in the run ledger ({@code rehearsal_reports}, {@code V2}), and the
 * question a rehearsal asks before it starts: which runs of the app have not ended. The worker's
 * activities write through here and the API reads through here, so both agree on the format.
 */
public final class RehearsalReportStore {
  /** The version of the report's JSON this code writes; readers accept it and older ones. */
  public static final int REPORT_VERSION = 1;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
          // A newer worker may add fields; an older reader keeps reading what it knows.
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final LedgerDatabase ledger;

  public RehearsalReportStore(LedgerDatabase ledger) {
    this.ledger = ledger;
  }

  /** Stores a report once: recording the same rehearsal again changes nothing. */
  public void record(RehearsalReport report) throws SQLException {
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                INSERT INTO rehearsal_reports (rehearsal_id, app, strategy, outcome, started_at, finished_at,
                  estimated_downtime_ms, byte_count, row_count, report_version, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
                ON CONFLICT (rehearsal_id) DO NOTHING
                """)) {
      s.setString(1, report.rehearsalId());
      s.setString(2, report.app());
      s.setString(3, report.strategy());
      s.setString(4, report.outcome());
      s.setTimestamp(5, Timestamp.from(report.startedAt()));
      if (report.finishedAt() == null) {
        s.setNull(6, Types.TIMESTAMP_WITH_TIMEZONE);
      } else {
        s.setTimestamp(6, Timestamp.from(report.finishedAt()));
      }
      if (report.estimatedDowntime() == null) {
        s.setNull(7, Types.BIGINT);
      } else {
        s.setLong(7, report.estimatedDowntime().toMillis());
      }
      s.setLong(8, report.bytes());
      s.setLong(9, report.rows());
      s.setInt(10, REPORT_VERSION);
      s.setString(11, JSON.writeValueAsString(report));
      s.executeUpdate();
    } catch (IOException e) {
      throw new IllegalStateException("a rehearsal report did not turn into JSON", e);
    }
  }

  /** One report, or empty. */
  public Optional<RehearsalReport> find(String rehearsalId) throws SQLException {
    try (Connection c = ledger.connect();
        PreparedStatement s = c.prepareStatement("SELECT report FROM rehearsal_reports WHERE rehearsal_id = ?")) {
      s.setString(1, rehearsalId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(read(rs.getString(1))) : Optional.empty();
      }
    }
  }

  /** The latest reports, newest first, of one app or (with {@code app} null) of all. */
  public List<RehearsalReport> recent(String app, int limit) throws SQLException {
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT report FROM rehearsal_reports WHERE (?::text IS NULL OR app = ?)"
                    + " ORDER BY started_at DESC, rehearsal_id DESC LIMIT ?")) {
      s.setString(1, app);
      s.setString(2, app);
      s.setInt(3, limit);
      List<RehearsalReport> reports = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          reports.add(read(rs.getString(1)));
        }
      }
      return reports;
    }
  }

  /** The app's runs of any kind with no {@code ended_at}, oldest first. */
  public List<ActiveRun> activeRuns(String app) throws SQLException {
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT run_id, kind, state, created_at FROM runs WHERE app = ? AND ended_at IS NULL"
                    + " ORDER BY created_at, run_id")) {
      s.setString(1, app);
      List<ActiveRun> runs = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          runs.add(
              new ActiveRun(
                  rs.getString(1),
                  RunKind.valueOf(rs.getString(2).toUpperCase()),
                  rs.getString(3),
                  rs.getTimestamp(4).toInstant()));
        }
      }
      return runs;
    }
  }

  private static RehearsalReport read(String json) {
    try {
      return JSON.readValue(json, RehearsalReport.class);
    } catch (IOException e) {
      throw new IllegalStateException("a rehearsal report in the ledger is not readable: " + e.getMessage(), e);
    }
  }
}

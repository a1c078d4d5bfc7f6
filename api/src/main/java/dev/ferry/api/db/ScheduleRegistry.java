package dev.ferry.api.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleTiming;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The ledger's list of rehearsal schedules ({@code schedules}, {@code db/ledger/V3__schedules.sql}):
 * what the API created, through which backend, by whom; so schedules can be listed on a
 * Temporal server that cannot list. What a schedule did lives with the schedule in Temporal.
 */
public class ScheduleRegistry {
  private final LedgerDatabase database;
  private final ObjectMapper json;

  public ScheduleRegistry(LedgerDatabase database, ObjectMapper json) {
    this.database = database;
    this.json = json;
  }

  /** A schedule as the ledger has it. */
  public record Entry(
      String scheduleId,
      String app,
      String backend,
      String cron,
      Duration interval,
      String timezone,
      boolean freshSnapshot,
      String createdBy,
      Instant createdAt,
      String state,
      boolean paused,
      String deletedBy,
      Instant deletedAt) {
    public ScheduleTiming timing() {
      return new ScheduleTiming(cron, interval, timezone);
    }
  }

  /** Writes a new schedule's row (state CREATING) before Temporal is asked to keep it. */
  public void claim(ScheduleDefinition d, String backend) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                INSERT INTO schedules (schedule_id, app, backend, cron, interval_secs, timezone, fresh_snapshot,
                                       runbook, created_by, created_at, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, 'CREATING')
                """)) {
      ScheduleTiming t = d.timing();
      s.setString(1, d.scheduleId());
      s.setString(2, d.app());
      s.setString(3, backend);
      if (t.cron() == null) {
        s.setNull(4, Types.VARCHAR);
        s.setLong(5, t.interval().toSeconds());
      } else {
        s.setString(4, t.cron().trim());
        s.setNull(5, Types.BIGINT);
      }
      s.setString(6, t.timezone());
      s.setBoolean(7, d.freshSnapshot());
      s.setString(8, toJson(d.runbook()));
      s.setString(9, d.createdBy());
      s.setTimestamp(10, Timestamp.from(d.createdAt()));
      s.executeUpdate();
    }
  }

  /** Temporal took it. */
  public void activate(String scheduleId) throws SQLException {
    update("UPDATE schedules SET state = 'ACTIVE' WHERE schedule_id = ? AND state = 'CREATING'", scheduleId);
  }

  /** Temporal refused it: nothing is left behind. */
  public void forget(String scheduleId) throws SQLException {
    update("DELETE FROM schedules WHERE schedule_id = ? AND state = 'CREATING'", scheduleId);
  }

  /** Paused or resumed through the API. */
  public void paused(String scheduleId, boolean paused) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("UPDATE schedules SET paused = ? WHERE schedule_id = ?")) {
      s.setBoolean(1, paused);
      s.setString(2, scheduleId);
      s.executeUpdate();
    }
  }

  /** A schedule's definition as created, to bring it back when Temporal lost it. */
  public Optional<ScheduleDefinition> definition(String scheduleId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT * FROM schedules WHERE schedule_id = ?")) {
      s.setString(1, scheduleId);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Entry e = entry(rs);
        Runbook runbook;
        try {
          runbook = json.readValue(rs.getString("runbook"), Runbook.class);
        } catch (JsonProcessingException ex) {
          throw new SQLException("schedule " + scheduleId + ": its runbook no longer reads: " + ex.getOriginalMessage(), ex);
        }
        return Optional.of(new ScheduleDefinition(e.scheduleId(), runbook, e.timing(), e.freshSnapshot(), e.createdBy(), e.createdAt()));
      }
    }
  }

  public void deleted(String scheduleId, String by) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE schedules SET state = 'DELETED', deleted_by = ?, deleted_at = now() WHERE schedule_id = ? AND state <> 'DELETED'")) {
      s.setString(1, by);
      s.setString(2, scheduleId);
      s.executeUpdate();
    }
  }

  public Optional<Entry> find(String scheduleId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT * FROM schedules WHERE schedule_id = ?")) {
      s.setString(1, scheduleId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(entry(rs)) : Optional.empty();
      }
    }
  }

  /** Schedules not deleted, of one app or all ({@code app} null), newest first. */
  public List<Entry> list(String app) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT * FROM schedules WHERE state <> 'DELETED' AND (?::text IS NULL OR app = ?) ORDER BY created_at DESC, schedule_id DESC LIMIT 500")) {
      s.setString(1, app);
      s.setString(2, app);
      List<Entry> entries = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          entries.add(entry(rs));
        }
      }
      return entries;
    }
  }

  /** Rows in the table, for tests that prove a refused request wrote nothing. */
  public long count() throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT count(*) FROM schedules");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Entry entry(ResultSet rs) throws SQLException {
    long secs = rs.getLong("interval_secs");
    Duration interval = rs.wasNull() ? null : Duration.ofSeconds(secs);
    return new Entry(
        rs.getString("schedule_id"),
        rs.getString("app"),
        rs.getString("backend"),
        rs.getString("cron"),
        interval,
        rs.getString("timezone"),
        rs.getBoolean("fresh_snapshot"),
        rs.getString("created_by"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getString("state"),
        rs.getBoolean("paused"),
        rs.getString("deleted_by"),
        rs.getTimestamp("deleted_at") == null ? null : rs.getTimestamp("deleted_at").toInstant());
  }

  private void update(String sql, String scheduleId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, scheduleId);
      s.executeUpdate();
    }
  }

  private String toJson(Object value) {
    try {
      return json.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a runbook always serialises", e);
    }
  }
}

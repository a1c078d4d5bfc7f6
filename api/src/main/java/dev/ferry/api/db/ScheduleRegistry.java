package dev.ferry.api.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.api.schedules.ScheduleDefinition;
import dev.ferry.api.schedules.ScheduleTiming;
import dev.ferry.model.runbook.Runbook;
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
 * The ledger's record of rehearsal schedules: the ones created through Ferry ({@code schedules},
 * {@code db/ledger/V3}: the definition, who created and who deleted it), what was done to them
 * ({@code schedule_events}, V4), and the rehearsals each started (their rows in {@code runs}).
 * Temporal keeps the schedules themselves and their state; the ledger lists them at once after
 * a create (Temporal's list is eventually consistent) and keeps them after a delete.
 */
public class ScheduleRegistry {
  private final LedgerDatabase database;
  private final ObjectMapper json;

  public ScheduleRegistry(LedgerDatabase database, ObjectMapper json) {
    this.database = database;
    this.json = json;
  }

  /** A schedule Temporal keeps itself; {@link #KEPT_BY_WORKFLOW} for one of the removed backend. */
  public static final String KEPT_BY_TEMPORAL = "native";

  /** One {@code RehearsalScheduleWorkflow} per schedule: gone since Temporal's Schedules are the only backend. */
  public static final String KEPT_BY_WORKFLOW = "workflow";

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
  public void claim(ScheduleDefinition d) throws SQLException {
    claim(d, KEPT_BY_TEMPORAL);
  }

  /** As {@link #claim(ScheduleDefinition)}, kept by {@code backend} (tests write old rows). */
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

  /** A schedule's definition as created: what a schedule of the removed backend is converted from. */
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

  /** ACTIVE schedules still kept by one {@code RehearsalScheduleWorkflow} each (the removed backend). */
  public List<Entry> keptByWorkflows() throws SQLException {
    return list(null).stream().filter(e -> KEPT_BY_WORKFLOW.equals(e.backend()) && "ACTIVE".equals(e.state())).toList();
  }

  /** The schedule is a Temporal schedule now. */
  public void keptByTemporal(String scheduleId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("UPDATE schedules SET backend = ? WHERE schedule_id = ?")) {
      s.setString(1, KEPT_BY_TEMPORAL);
      s.setString(2, scheduleId);
      s.executeUpdate();
    }
  }

  /**
   * Something done to a schedule through Ferry.
   *
   * @param type CREATED, PAUSED, RESUMED, TRIGGERED, DELETED or CONVERTED
   * @param fireResult for TRIGGERED: STARTED, SKIPPED or REQUESTED
   */
  public record Event(
      Instant at, String type, String actor, String note, String fireResult, String rehearsalId, String reason) {
    public static Event of(Instant at, String type, String actor, String note) {
      return new Event(at, type, actor, note, null, null, null);
    }
  }

  public void record(String scheduleId, Event e) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                INSERT INTO schedule_events (schedule_id, at, type, actor, note, fire_result, rehearsal_id, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)) {
      s.setString(1, scheduleId);
      s.setTimestamp(2, Timestamp.from(e.at()));
      s.setString(3, e.type());
      s.setString(4, e.actor());
      s.setString(5, e.note());
      s.setString(6, e.fireResult());
      s.setString(7, e.rehearsalId());
      s.setString(8, e.reason());
      s.executeUpdate();
    }
  }

  /** What was done to a schedule through Ferry, newest first. */
  public List<Event> events(String scheduleId, int limit) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement("SELECT * FROM schedule_events WHERE schedule_id = ? ORDER BY at DESC, id DESC LIMIT ?")) {
      s.setString(1, scheduleId);
      s.setInt(2, limit);
      List<Event> events = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          events.add(
              new Event(
                  rs.getTimestamp("at").toInstant(),
                  rs.getString("type"),
                  rs.getString("actor"),
                  rs.getString("note"),
                  rs.getString("fire_result"),
                  rs.getString("rehearsal_id"),
                  rs.getString("reason")));
        }
      }
      return events;
    }
  }

  /**
   * A rehearsal a schedule started, as its own rows in the ledger say.
   *
   * @param endedAt when it ended, or {@code null} while it runs
   * @param skipped why it stopped at its overlap check without rehearsing, or {@code null}
   */
  public record Rehearsal(String runId, String state, String phase, Instant createdAt, Instant endedAt, String skipped) {}

  /** The rehearsals a schedule started (their {@code startedBy} is {@code schedule:<id>}), newest first. */
  public List<Rehearsal> rehearsals(String scheduleId, int limit) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                SELECT r.run_id, r.state, r.phase, r.created_at, r.ended_at, rr.report ->> 'skipped' AS skipped
                  FROM runs r LEFT JOIN rehearsal_reports rr ON rr.rehearsal_id = r.run_id
                 WHERE r.kind = 'rehearsal' AND r.started_by = ?
                 ORDER BY r.created_at DESC, r.run_id DESC LIMIT ?
                """)) {
      s.setString(1, "schedule:" + scheduleId);
      s.setInt(2, limit);
      List<Rehearsal> rehearsals = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          Timestamp ended = rs.getTimestamp("ended_at");
          rehearsals.add(
              new Rehearsal(
                  rs.getString("run_id"),
                  rs.getString("state"),
                  rs.getString("phase"),
                  rs.getTimestamp("created_at").toInstant(),
                  ended == null ? null : ended.toInstant(),
                  rs.getString("skipped")));
        }
      }
      return rehearsals;
    }
  }

  /** How many of a schedule's rehearsals stopped at their overlap check, over its whole life. */
  public long skippedRehearsals(String scheduleId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                SELECT count(*) FROM runs r JOIN rehearsal_reports rr ON rr.rehearsal_id = r.run_id
                 WHERE r.kind = 'rehearsal' AND r.started_by = ? AND rr.outcome = 'skipped'
                """)) {
      s.setString(1, "schedule:" + scheduleId);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
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

package dev.ferry.api.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.runbook.Runbook;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API's reads and writes of the run ledger (the tables of {@code db/ledger/V*.sql}): the
 * run it starts, with the authenticated starter and the client's idempotency key; what it
 * observes of a run's state; its own audit events (requests, cancellations, refused
 * decisions); and the lists it serves.
 */
public class RunLedger {
  private static final List<String> FINAL = List.of("SUCCEEDED", "FAILED", "REJECTED", "CANCELLED");

  private final LedgerDatabase database;
  private final ObjectMapper json;

  public RunLedger(LedgerDatabase database, ObjectMapper json) {
    this.database = database;
    this.json = json;
  }

  /** A run as the ledger has it. */
  public record Run(
      String runId,
      String kind,
      String app,
      String strategy,
      String startedBy,
      String startedVia,
      String idempotencyKey,
      String requestSha256,
      String state,
      String phase,
      Instant createdAt,
      Instant updatedAt,
      Instant endedAt) {}

  /** One audit event. */
  public record Event(long id, Long seq, Instant at, String type, String step, String actor, String detail, String evidenceDigest, String source) {}

  /** What to list: any of these may be null (no filter). */
  /**
   * Which runs to list; each part {@code null} for any.
   *
   * @param runIds only these runs (those visibility shows in a phase); empty lists none
   */
  public record Filter(String state, String app, String kind, java.util.Set<String> runIds) {
    public Filter(String state, String app, String kind) {
      this(state, app, kind, null);
    }
  }

  /**
   * Claims a new run: writes its row (state {@code STARTING}) and a REQUESTED event, unless this
   * user already used this idempotency key, in which case that run comes back instead.
   *
   * @param idempotencyKey null when the client sent none
   * @return the run now in the ledger and whether this call created it
   */
  public Claim claim(String runId, RunKind kind, Runbook runbook, String startedBy, String idempotencyKey, String requestSha256)
      throws SQLException {
    try (Connection c = database.connect()) {
      c.setAutoCommit(false);
      try {
        boolean created;
        try (PreparedStatement s =
            c.prepareStatement(
                """
                INSERT INTO runs (run_id, kind, app, strategy, started_by, started_via, idempotency_key,
                                  request_sha256, runbook, state, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'api', ?, ?, ?::jsonb, 'STARTING', now(), now())
                ON CONFLICT (started_by, idempotency_key) DO NOTHING
                """)) {
          s.setString(1, runId);
          s.setString(2, kind.label());
          s.setString(3, runbook.app());
          s.setString(4, runbook.strategy() == null ? null : runbook.strategy().label());
          s.setString(5, startedBy);
          nullable(s, 6, idempotencyKey);
          s.setString(7, requestSha256);
          s.setString(8, toJson(runbook));
          created = s.executeUpdate() == 1;
        }
        if (created) {
          insertEvent(c, runId, RunEventType.REQUESTED, null, startedBy,
              "requested through the API" + (idempotencyKey == null ? "" : " (Idempotency-Key " + idempotencyKey + ")"));
          c.commit();
          return new Claim(find(runId).orElseThrow(), true);
        }
        c.commit();
        return new Claim(findByKey(startedBy, idempotencyKey).orElseThrow(), false);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  public record Claim(Run run, boolean created) {}

  /** Temporal took the run: it is no longer only requested. */
  public void started(String runId) throws SQLException {
    update("UPDATE runs SET state = 'RUNNING', updated_at = now() WHERE run_id = ? AND state = 'STARTING'", runId);
  }

  /** Temporal did not take the run: forget it, so a failed request leaves nothing behind. */
  public void forget(String runId) throws SQLException {
    try (Connection c = database.connect()) {
      c.setAutoCommit(false);
      try (PreparedStatement e = c.prepareStatement("DELETE FROM run_events WHERE run_id = ?");
          PreparedStatement r = c.prepareStatement("DELETE FROM runs WHERE run_id = ? AND state = 'STARTING'")) {
        e.setString(1, runId);
        e.executeUpdate();
        r.setString(1, runId);
        r.executeUpdate();
        c.commit();
      } catch (SQLException | RuntimeException ex) {
        c.rollback();
        throw ex;
      }
    }
  }

  /**
   * What the API saw of a run when it read its status: keeps the list's state current between
   * the workflow's own events. A finished run's state never changes.
   */
  public void observe(String runId, RunState state, String phase, Instant endedAt) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                UPDATE runs SET state = ?, phase = ?, ended_at = COALESCE(?, ended_at), updated_at = now()
                 WHERE run_id = ? AND state NOT IN ('SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED')
                   AND (state IS DISTINCT FROM ? OR phase IS DISTINCT FROM ?)
                """)) {
      s.setString(1, state.name());
      nullable(s, 2, phase);
      s.setTimestamp(3, endedAt == null ? null : Timestamp.from(endedAt));
      s.setString(4, runId);
      s.setString(5, state.name());
      nullable(s, 6, phase);
      s.executeUpdate();
    }
  }

  /** An event the API itself witnessed (a cancellation asked for, a decision refused). */
  public void record(String runId, RunEventType type, String step, String actor, String detail) throws SQLException {
    try (Connection c = database.connect()) {
      if (exists(c, runId)) {
        insertEvent(c, runId, type, step, actor, detail);
      }
    }
  }

  public Optional<Run> find(String runId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT * FROM runs WHERE run_id = ?")) {
      s.setString(1, runId);
      return one(s);
    }
  }

  private Optional<Run> findByKey(String startedBy, String key) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT * FROM runs WHERE started_by = ? AND idempotency_key = ?")) {
      s.setString(1, startedBy);
      s.setString(2, key);
      return one(s);
    }
  }

  /** Newest first; {@code limit + 1} are read to know whether there is a next page. */
  public List<Run> list(Filter filter, int limit, int offset) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT * FROM runs WHERE true");
    List<String> args = new ArrayList<>();
    if (filter.state() != null) {
      sql.append(" AND state = ?");
      args.add(filter.state());
    }
    if (filter.app() != null) {
      sql.append(" AND app = ?");
      args.add(filter.app());
    }
    if (filter.kind() != null) {
      sql.append(" AND kind = ?");
      args.add(filter.kind());
    }
    if (filter.runIds() != null) {
      sql.append(" AND run_id = ANY(?)");
    }
    sql.append(" ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?");
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement(sql.toString())) {
      int i = 1;
      for (String a : args) {
        s.setString(i++, a);
      }
      if (filter.runIds() != null) {
        s.setArray(i++, c.createArrayOf("text", filter.runIds().toArray()));
      }
      s.setInt(i++, limit);
      s.setInt(i, offset);
      List<Run> runs = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          runs.add(run(rs));
        }
      }
      return runs;
    }
  }

  /** A run's events in the order they happened. */
  public List<Event> events(String runId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT id, seq, at, type, step, actor, detail, evidence_digest, source FROM run_events WHERE run_id = ? ORDER BY at, id")) {
      s.setString(1, runId);
      List<Event> events = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(2);
          events.add(
              new Event(
                  rs.getLong(1),
                  rs.wasNull() ? null : seq,
                  rs.getTimestamp(3).toInstant(),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6),
                  rs.getString(7),
                  rs.getString(8),
                  rs.getString(9)));
        }
      }
      return events;
    }
  }

  /**
   * A page of a run's latest verification, as the verify activity recorded it: the objects of
   * one kind in name order after {@code after}, only those that differ when {@code differing}.
   *
   * @param total objects of that kind recorded so far; {@code differing} those that differ
   */
  public record VerificationPage(
      String activityId,
      Instant startedAt,
      Instant finishedAt,
      Integer mismatches,
      long total,
      long differing,
      List<VerificationObject> objects) {}

  /** @param detail the comparison as the report's types write it */
  public record VerificationObject(String name, boolean matches, com.fasterxml.jackson.databind.JsonNode detail) {}

  /** The latest verification of a run (empty when it has none recorded), a page of it. */
  public Optional<VerificationPage> verification(String runId, String kind, boolean differingOnly, String after, int limit)
      throws SQLException {
    try (Connection c = database.connect()) {
      String activityId;
      Instant startedAt;
      Instant finishedAt;
      Integer mismatches;
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT activity_id, started_at, finished_at, mismatches FROM verifications WHERE run_id = ?"
                  + " ORDER BY started_at DESC, activity_id DESC LIMIT 1")) {
        s.setString(1, runId);
        try (ResultSet rs = s.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          activityId = rs.getString(1);
          startedAt = rs.getTimestamp(2).toInstant();
          Timestamp finished = rs.getTimestamp(3);
          finishedAt = finished == null ? null : finished.toInstant();
          int m = rs.getInt(4);
          mismatches = rs.wasNull() ? null : m;
        }
      }
      long total;
      long differing;
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT count(*), count(*) FILTER (WHERE NOT matches) FROM verification_objects"
                  + " WHERE run_id = ? AND activity_id = ? AND kind = ?")) {
        s.setString(1, runId);
        s.setString(2, activityId);
        s.setString(3, kind);
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          total = rs.getLong(1);
          differing = rs.getLong(2);
        }
      }
      List<VerificationObject> objects = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT name, matches, detail::text FROM verification_objects WHERE run_id = ? AND activity_id = ? AND kind = ?"
                  + (differingOnly ? " AND NOT matches" : "") + " AND name > ? ORDER BY name LIMIT ?")) {
        s.setString(1, runId);
        s.setString(2, activityId);
        s.setString(3, kind);
        s.setString(4, after == null ? "" : after);
        s.setInt(5, limit);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            objects.add(new VerificationObject(rs.getString(1), rs.getBoolean(2), json.readTree(rs.getString(3))));
          }
        }
      } catch (JsonProcessingException e) {
        throw new SQLException("a verification's detail in the ledger is not JSON: " + e.getOriginalMessage(), e);
      }
      return Optional.of(new VerificationPage(activityId, startedAt, finishedAt, mismatches, total, differing, objects));
    }
  }

  /** Runs and events in the ledger, for tests that prove a refused request wrote nothing. */
  public long[] counts() throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM run_events)");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  /** Whether the ledger answers, within a couple of seconds. */
  public void ping() throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement("SELECT 1 FROM runs LIMIT 1")) {
      s.setQueryTimeout(2);
      s.executeQuery().close();
    }
  }

  public static boolean isFinal(String state) {
    return FINAL.contains(state);
  }

  private static boolean exists(Connection c, String runId) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM runs WHERE run_id = ?")) {
      s.setString(1, runId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static void insertEvent(Connection c, String runId, RunEventType type, String step, String actor, String detail)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO run_events (run_id, seq, at, type, step, actor, detail, source) VALUES (?, NULL, now(), ?, ?, ?, ?, 'api')")) {
      s.setString(1, runId);
      s.setString(2, type.name());
      nullable(s, 3, step);
      nullable(s, 4, actor);
      nullable(s, 5, detail);
      s.executeUpdate();
    }
  }

  private void update(String sql, String runId) throws SQLException {
    try (Connection c = database.connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, runId);
      s.executeUpdate();
    }
  }

  private static Optional<Run> one(PreparedStatement s) throws SQLException {
    try (ResultSet rs = s.executeQuery()) {
      return rs.next() ? Optional.of(run(rs)) : Optional.empty();
    }
  }

  private static Run run(ResultSet rs) throws SQLException {
    return new Run(
        rs.getString("run_id"),
        rs.getString("kind"),
        rs.getString("app"),
        rs.getString("strategy"),
        rs.getString("started_by"),
        rs.getString("started_via"),
        rs.getString("idempotency_key"),
        rs.getString("request_sha256"),
        rs.getString("state"),
        rs.getString("phase"),
        instant(rs.getTimestamp("created_at")),
        instant(rs.getTimestamp("updated_at")),
        instant(rs.getTimestamp("ended_at")));
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  private String toJson(Runbook runbook) {
    try {
      return json.writeValueAsString(runbook);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a runbook always serialises", e);
    }
  }

  private static void nullable(PreparedStatement s, int i, String value) throws SQLException {
    if (value == null) {
      s.setNull(i, Types.VARCHAR);
    } else {
      s.setString(i, value);
    }
  }
}

package dev.ferry.activities.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies one batch of captured changes: reads the changed keys and, in the same snapshot, each
 * table's rows of those keys as they are now on the source; deletes those keys on the target and
 * inserts the rows that still exist; then deletes exactly the change rows it read.
 *
 * <p>Why this is exact and safe to repeat: a row is always copied as it is <em>now</em>, so
 * applying a change twice, or out of order, writes the same result; a key whose last change was
 * applied after that change committed holds the source's value. The change rows are deleted by
 * id after the target committed: a crash in between only applies them again. A change committed
 * late with a smaller id is not lost, because only the ids read are deleted.
 *
 * <p>On the target, foreign keys are not checked while applying ({@code session_replication_role
 * = replica}, as logical replication does): a batch writes tables in no particular order, and
 * the source already enforced them. A truncate on the source truncates the target table first,
 * then the batch's keys of that table are applied, so rows written after the truncate survive.
 */
final class TriggerApply {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What one batch did. */
  record Batch(int changes, int rows, Instant newest) {
    static final Batch EMPTY = new Batch(0, 0, null);
  }

  private final SyncSession session;
  private final Map<Long, CapturedTable> tables;
  private final int size;

  TriggerApply(SyncSession session, Map<Long, CapturedTable> tables, int size) {
    this.session = session;
    this.tables = tables;
    this.size = size;
  }

  /** Casts captured keys back under the settings the capture wrote them with ({@link TriggerCapture#SETTINGS}). */
  private static final String READ_KEYS_BACK =
      "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET TimeZone = 'UTC'";

  /**
   * Sets a target session up for applying: foreign keys and user triggers off. Fails for good
   * when the target's credential may not (it needs superuser, or rds_superuser on RDS).
   */
  static void prepareTarget(Connection target, Endpoint endpoint) throws SQLException {
    try (Statement s = target.createStatement()) {
      s.execute(READ_KEYS_BACK);
      s.execute("SET session_replication_role = replica");
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        throw ApplicationFailure.newNonRetryableFailure(
            endpoint.describe() + ": the trigger method applies changes with session_replication_role = replica,"
                + " which this user may not set (it needs superuser, or rds_superuser on RDS)",
            Errors.SYNC_REFUSED);
      }
      throw e;
    }
  }

  /** Sets a source session up: Ferry's own bookkeeping still writes when the source is frozen. */
  static void prepareSource(Connection source) throws SQLException {
    try (Statement s = source.createStatement()) {
      s.execute(READ_KEYS_BACK);
      s.execute("SET default_transaction_read_only = off");
    }
  }

  /**
   * Applies up to {@code size} changes. When the target refuses a row for a unique constraint
   * other than the key (a value that moved from one row to another across the batch's edge:
   * row 2 gave up an email that row 1, in this batch, took, and row 2's change is in the next
   * batch), applies every pending change at once instead: read in one snapshot, the target
   * then equals the source at that snapshot, which the source's constraints held.
   */
  Batch applyOne(Connection source, Connection target) {
    try {
      return apply(source, target, size);
    } catch (UniqueCollision first) {
      try {
        return apply(source, target, WIDE);
      } catch (UniqueCollision again) {
        throw ApplicationFailure.newNonRetryableFailure(
            session.target().describe() + ": the target refuses a row the source holds: " + again.getMessage()
                + " (a constraint the target has and the source has not?)",
            Errors.STEP_FAILED);
      }
    }
  }

  /** At most this many changes in a batch widened after a unique collision. */
  static final int WIDE = 500_000;

  /** The target refused a row for a unique constraint. */
  private static final class UniqueCollision extends RuntimeException {
    UniqueCollision(String message) {
      super(message, null, false, false);
    }
  }

  /** What a batch read from the source, in one snapshot. */
  private record Read(
      List<Long> ids, Set<Long> truncated, Map<CapturedTable, List<String>> rows, Map<CapturedTable, String> keys, Instant newest,
      List<List<Object>> changes) {}

  private Batch apply(Connection source, Connection target, int limit) {
    Read read = read(source, limit);
    if (read.ids().isEmpty()) {
      return Batch.EMPTY;
    }
    int rows = write(target, read);
    try (var ps = source.prepareStatement("DELETE FROM " + session.schema() + ".changes WHERE id = ANY (?)")) {
      ps.setArray(1, source.createArrayOf("bigint", read.ids().toArray()));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Databases.failure(session.source(), e);
    }
    return new Batch(read.ids().size(), rows, read.newest());
  }

  /**
   * The changes and the changed keys' rows as they are now, all in one repeatable-read snapshot,
   * so the rows agree with each other and with the list of changes.
   */
  private Read read(Connection source, int limit) {
    List<Long> ids = new ArrayList<>();
    List<List<Object>> changes = new ArrayList<>();
    Map<Long, Set<List<String>>> keys = new LinkedHashMap<>();
    Set<Long> truncated = new LinkedHashSet<>();
    Instant newest = null;
    try {
      source.setAutoCommit(false);
      source.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try (var ps =
          source.prepareStatement("SELECT id, rel, key, at, xid::text FROM " + session.schema() + ".changes ORDER BY id LIMIT ?")) {
        ps.setInt(1, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getLong(1));
            long rel = rs.getLong(2);
            java.sql.Array key = rs.getArray(3);
            List<String> values = key == null ? List.of() : Arrays.asList((String[]) key.getArray());
            if (key == null) {
              truncated.add(rel);
            } else {
              keys.computeIfAbsent(rel, r -> new LinkedHashSet<>()).add(values);
            }
            CapturedTable t = table(rel);
            changes.add(List.of(t.table().schema(), t.table().name(), values, rs.getString(5)));
            Timestamp at = rs.getTimestamp(4);
            newest = at.toInstant();
          }
        }
      }
      Map<CapturedTable, List<String>> rows = new LinkedHashMap<>();
      Map<CapturedTable, String> keyJson = new LinkedHashMap<>();
      for (Map.Entry<Long, Set<List<String>>> e : keys.entrySet()) {
        CapturedTable t = table(e.getKey());
        String json = json(e.getValue());
        keyJson.put(t, json);
        rows.put(t, currentRows(source, t, json));
      }
      truncated.forEach(this::table);
      source.commit();
      return new Read(ids, truncated, rows, keyJson, newest, changes);
    } catch (SQLException e) {
      rollbackQuietly(source);
      throw Databases.failure(session.source(), e);
    } finally {
      try {
        source.setAutoCommit(true);
      } catch (SQLException e) {
        // The connection is broken: the next statement says so.
      }
    }
  }

  /** In one target transaction: truncates first, then each table's keys deleted and re-inserted. */
  private int write(Connection target, Read read) {
    int rows = 0;
    try {
      target.setAutoCommit(false);
      for (long rel : read.truncated()) {
        try (Statement s = target.createStatement()) {
          // CASCADE: the source truncated the tables referencing this one in the same statement
          // (it refuses otherwise); their own truncates are in the changes too.
          s.execute("TRUNCATE " + table(rel).table().sql() + " CASCADE");
        }
      }
      for (Map.Entry<CapturedTable, List<String>> e : read.rows().entrySet()) {
        rows += replaceRows(target, e.getKey(), read.keys().get(e.getKey()), e.getValue());
      }
      recordApplied(target, read.changes());
      target.commit();
      return rows;
    } catch (SQLException e) {
      rollbackQuietly(target);
      if ("23505".equals(e.getSQLState())) {
        throw new UniqueCollision(e.getMessage());
      }
      throw Databases.failure(session.target(), e);
    } finally {
      try {
        target.setAutoCommit(true);
      } catch (SQLException e) {
        // The connection is broken: the next statement says so.
      }
    }
  }

  /** Whether the target has the sync's record of applied changes (syncs set up before it have not). */
  private Boolean recordsApplied;

  /**
   * Records the changes this batch applied (table, key, the source transaction's id) on the
   * target, in the batch's own transaction: a pre-verification learns every key changed after it
   * proved a chunk from here ({@link TriggerChangeFeed}), whether the rows committed or not is
   * the same question as whether the record did. The source takes no extra write.
   */
  private void recordApplied(Connection target, List<List<Object>> changes) throws SQLException {
    if (recordsApplied == null) {
      try (Statement s = target.createStatement();
          ResultSet rs = s.executeQuery("SELECT to_regclass('" + session.schema() + ".applied') IS NOT NULL")) {
        rs.next();
        recordsApplied = rs.getBoolean(1);
      }
    }
    if (!recordsApplied || changes.isEmpty()) {
      return;
    }
    try (var ps =
        target.prepareStatement(
            "INSERT INTO " + session.schema() + ".applied (nspname, relname, key, xid)"
                + " SELECT e->>0, e->>1, ARRAY(SELECT jsonb_array_elements_text(e->2)), (e->>3)::xid8"
                + " FROM jsonb_array_elements(?::jsonb) e")) {
      ps.setString(1, JSON.writeValueAsString(changes));
      ps.executeUpdate();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String json(Set<List<String>> keys) {
    try {
      return JSON.writeValueAsString(keys);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The keys' rows on the source now, each as the table type's text form. */
  private static List<String> currentRows(Connection source, CapturedTable t, String keyJson) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (var ps = source.prepareStatement("SELECT t::text FROM ONLY " + t.table().sql() + " t" + keyFilter(t))) {
      ps.setString(1, keyJson);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(rs.getString(1));
        }
      }
    }
    return rows;
  }

  private static String keyFilter(CapturedTable t) {
    return " WHERE " + t.keyTuple("") + " IN (" + t.keysFromJson() + ")";
  }

  /** Replaces the target's rows of these keys by the source's. Returns rows written. */
  private static int replaceRows(Connection target, CapturedTable t, String keyJson, List<String> rows) throws SQLException {
    try (var ps = target.prepareStatement("DELETE FROM ONLY " + t.table().sql() + keyFilter(t))) {
      ps.setString(1, keyJson);
      ps.executeUpdate();
    }
    if (!rows.isEmpty()) {
      // The row's text form goes back through the table's own type: every value round-trips
      // exactly, whatever its type. Generated columns are left to the target to compute.
      StringBuilder select = new StringBuilder();
      for (String column : t.columns()) {
        select.append(select.length() == 0 ? "" : ", ").append("(r).").append(dev.ferry.activities.postgres.Catalog.quote(column));
      }
      try (var ps =
          target.prepareStatement(
              // OVERRIDING SYSTEM VALUE: a GENERATED ALWAYS identity column takes the source's value.
              "INSERT INTO " + t.table().sql() + " (" + t.columnList() + ") OVERRIDING SYSTEM VALUE SELECT " + select
                  + " FROM (SELECT x::" + t.table().sql() + " AS r FROM unnest(?::text[]) x) s")) {
        ps.setArray(1, target.createArrayOf("text", rows.toArray()));
        ps.executeUpdate();
      }
    }
    return rows.size();
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // The connection is broken: the failure being thrown says why.
    }
  }

  private CapturedTable table(long rel) {
    CapturedTable t = tables.get(rel);
    if (t == null) {
      // A table the setup did not see: created since, or dropped and created again.
      throw ApplicationFailure.newNonRetryableFailure(
          session.source().describe() + ": a change was captured for a table the sync did not set up (oid " + rel
              + "); the schema changed while syncing",
          Errors.SCHEMA_CHANGED);
    }
    return t;
  }
}

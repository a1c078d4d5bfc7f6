package dev.ferry.activities.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
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
 * Applies one batch of captured changes: reads the changed keys, then for each table reads the
 * keys' rows as they are now on the source, deletes those keys on the target and inserts the
 * rows that still exist; then deletes exactly the change rows it read.
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

  /**
   * Sets a target session up for applying: foreign keys and user triggers off. Fails for good
   * when the target's credential may not (it needs superuser, or rds_superuser on RDS).
   */
  static void prepareTarget(Connection target, Endpoint endpoint) throws SQLException {
    try (Statement s = target.createStatement()) {
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
      s.execute("SET default_transaction_read_only = off");
    }
  }

  Batch applyOne(Connection source, Connection target) throws SQLException {
    List<Long> ids = new ArrayList<>();
    Map<Long, Set<List<String>>> keys = new LinkedHashMap<>();
    Set<Long> truncated = new LinkedHashSet<>();
    Instant newest = null;
    try (var ps =
        source.prepareStatement("SELECT id, rel, key, at FROM " + session.schema() + ".changes ORDER BY id LIMIT ?")) {
      ps.setInt(1, size);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
          long rel = rs.getLong(2);
          java.sql.Array key = rs.getArray(3);
          if (key == null) {
            truncated.add(rel);
          } else {
            keys.computeIfAbsent(rel, r -> new LinkedHashSet<>()).add(Arrays.asList((String[]) key.getArray()));
          }
          Timestamp at = rs.getTimestamp(4);
          newest = at.toInstant();
        }
      }
    }
    if (ids.isEmpty()) {
      return Batch.EMPTY;
    }
    int rows = 0;
    target.setAutoCommit(false);
    try {
      for (long rel : truncated) {
        try (Statement s = target.createStatement()) {
          // CASCADE: the source truncated the tables referencing this one in the same statement
          // (it refuses otherwise); their own truncates are in the changes too.
          s.execute("TRUNCATE " + table(rel).table().sql() + " CASCADE");
        }
      }
      for (Map.Entry<Long, Set<List<String>>> e : keys.entrySet()) {
        rows += copyRows(source, target, table(e.getKey()), e.getValue());
      }
      target.commit();
    } catch (SQLException | RuntimeException e) {
      target.rollback();
      throw e;
    } finally {
      target.setAutoCommit(true);
    }
    try (var ps = source.prepareStatement("DELETE FROM " + session.schema() + ".changes WHERE id = ANY (?)")) {
      ps.setArray(1, source.createArrayOf("bigint", ids.toArray()));
      ps.executeUpdate();
    }
    return new Batch(ids.size(), rows, newest);
  }

  /** Replaces the target's rows of these keys by the source's current ones. Returns rows written. */
  private int copyRows(Connection source, Connection target, CapturedTable t, Set<List<String>> keys) throws SQLException {
    String keyJson;
    try {
      keyJson = JSON.writeValueAsString(keys);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    String keyFilter = " WHERE " + t.keyTuple("") + " IN (" + t.keysFromJson() + ")";
    List<String> rows = new ArrayList<>();
    try (var ps = source.prepareStatement("SELECT t::text FROM ONLY " + t.table().sql() + " t" + keyFilter)) {
      ps.setString(1, keyJson);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(rs.getString(1));
        }
      }
    }
    try (var ps = target.prepareStatement("DELETE FROM ONLY " + t.table().sql() + keyFilter)) {
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
              "INSERT INTO " + t.table().sql() + " (" + t.columnList() + ") SELECT " + select
                  + " FROM (SELECT x::" + t.table().sql() + " AS r FROM unnest(?::text[]) x) s")) {
        ps.setArray(1, target.createArrayOf("text", rows.toArray()));
        ps.executeUpdate();
      }
    }
    return rows.size();
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

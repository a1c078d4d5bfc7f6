package dev.ferry.activities.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.postgres.ChangeFeed.ChangedKey;
import dev.ferry.model.verify.PreverifyCoverage;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A verification's proofs, kept on the target in a schema of its own ({@code
 * ferry_verify_<12 hex>}), never in a workflow payload: their number grows with the tables.
 *
 * <ul>
 *   <li>{@code tables}: each table planned, how it was split, the planner's row estimate;
 *   <li>{@code chunks}: each table's primary-key ranges {@code (lower, upper]} (either end open),
 *       fixed when planned so a key always falls in the same chunk; a chunk's <em>proof</em> is the
 *       source and target snapshots in which its checksums matched, the rows it counted and when;
 *   <li>{@code pending}: changes a proof may not cover: a key (or {@code []}, every row of the
 *       table) changed on the source ({@code s}) or written on the target outside the sync ({@code
 *       t}), with the writing transaction's id. A row is removed only by a comparison whose
 *       snapshots hold that transaction and that found the row equal on both sides;
 *   <li>{@code state}: what was done once (the plan).
 * </ul>
 *
 * The logical method's change feed keeps {@code key_feed} here too: how far it read the source's
 * WAL, written in the transaction that adds the keys it read to {@code pending}.
 *
 * A chunk with a proof and no pending key is equal on both sides as long as nothing else writes
 * it; a pending key is compared again on its own. Reusable by anything that proves a target
 * chunk by chunk (a copy that checks each table as soon as it is built can record its chunks
 * here and skip them after a crash).
 */
public final class VerifyLedger {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A planned chunk, with its proof when it has one. */
  record Chunk(Catalog.Table table, int seq, List<String> lower, List<String> upper, int checks, int strikes, boolean proven, long rows) {}

  private final String schema;

  private VerifyLedger(String schema) {
    this.schema = schema;
  }

  /** The ledger named after a request's idempotency key. */
  public static VerifyLedger of(String idempotencyKey) {
    String hex = idempotencyKey.replace("-", "").toLowerCase(Locale.ROOT);
    if (!hex.matches("[0-9a-f]+")) {
      throw new IllegalArgumentException("an idempotency key of hex digits and dashes, not " + idempotencyKey);
    }
    return new VerifyLedger("ferry_verify_" + (hex.length() > 12 ? hex.substring(0, 12) : hex));
  }

  /** The ledger in {@code schema}, if that is a name {@link #of} makes. */
  static Optional<VerifyLedger> named(String schema) {
    return schema.matches("ferry_verify_[0-9a-f]{1,12}") ? Optional.of(new VerifyLedger(schema)) : Optional.empty();
  }

  /** The schema's name, the same on the source for a feed's own capture. */
  public String schema() {
    return schema;
  }

  /**
   * Creates the schema and its tables, all at once or none (readers look for them), the schema's
   * comment naming {@code run} ({@link RunComment}: how the sweep traces it). Idempotent.
   */
  void create(Connection target, String run) throws SQLException {
    boolean autoCommit = target.getAutoCommit();
    target.setAutoCommit(false);
    try (Statement s = target.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      s.execute("COMMENT ON SCHEMA " + schema + " IS " + RunComment.literal(run, "proofs of a verification under way; dropped when the run ends"));
      s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".state (k text PRIMARY KEY, v text NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".tables (nspname text, relname text, method text NOT NULL,"
              + " estimate bigint NOT NULL, PRIMARY KEY (nspname, relname))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".chunks (nspname text, relname text, seq int, lower text[], upper text[],"
              + " checks int NOT NULL DEFAULT 0, strikes int NOT NULL DEFAULT 0,"
              + " source_snapshot pg_snapshot, target_snapshot pg_snapshot, rows bigint, proven_at timestamptz,"
              + " PRIMARY KEY (nspname, relname, seq))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".pending (nspname text, relname text, key text[], side \"char\", xid xid8,"
              + " at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (nspname, relname, key, side, xid))");
      target.commit();
    } catch (SQLException | RuntimeException e) {
      target.rollback();
      throw e;
    } finally {
      target.setAutoCommit(autoCommit);
    }
  }

  boolean exists(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('" + schema + ".chunks') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  Optional<String> state(Connection target, String key) throws SQLException {
    try (PreparedStatement ps = target.prepareStatement("SELECT v FROM " + schema + ".state WHERE k = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  void putState(Connection target, String key, String value) throws SQLException {
    try (PreparedStatement ps =
        target.prepareStatement(
            "INSERT INTO " + schema + ".state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")) {
      ps.setString(1, key);
      ps.setString(2, value);
      ps.executeUpdate();
    }
  }

  // ---- the plan -------------------------------------------------------------------------------

  /** Whether a table's chunks are recorded. */
  boolean planned(Connection target, Catalog.Table table) throws SQLException {
    try (PreparedStatement ps = target.prepareStatement("SELECT 1 FROM " + schema + ".tables WHERE nspname = ? AND relname = ?")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Records a table's chunks, in one transaction with the table itself: a table is planned whole or not at all. */
  void plan(Connection target, Catalog.Table table, String method, long estimate, List<List<String>> uppers) throws SQLException {
    boolean autoCommit = target.getAutoCommit();
    target.setAutoCommit(false);
    try {
      try (PreparedStatement ps =
          target.prepareStatement("INSERT INTO " + schema + ".tables VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        ps.setString(1, table.schema());
        ps.setString(2, table.name());
        ps.setString(3, method);
        ps.setLong(4, estimate);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          target.prepareStatement(
              "INSERT INTO " + schema + ".chunks (nspname, relname, seq, lower, upper) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        List<String> lower = null;
        for (int seq = 0; seq <= uppers.size(); seq++) {
          List<String> upper = seq < uppers.size() ? uppers.get(seq) : null;
          ps.setString(1, table.schema());
          ps.setString(2, table.name());
          ps.setInt(3, seq);
          ps.setArray(4, lower == null ? null : target.createArrayOf("text", lower.toArray()));
          ps.setArray(5, upper == null ? null : target.createArrayOf("text", upper.toArray()));
          ps.addBatch();
          lower = upper;
        }
        ps.executeBatch();
      }
      target.commit();
    } catch (SQLException | RuntimeException e) {
      target.rollback();
      throw e;
    } finally {
      target.setAutoCommit(autoCommit);
    }
  }

  /** A planned table's chunks: how many, how many without a proof, and the rows of those with one. */
  record TableTotals(Catalog.Table table, String method, long chunks, long unproven, long provenRows) {}

  /** Every planned table's totals, in one query. */
  Map<Catalog.Table, TableTotals> totals(Connection target) throws SQLException {
    Map<Catalog.Table, TableTotals> totals = new java.util.HashMap<>();
    try (Statement s = target.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT c.nspname, c.relname, t.method, count(*), count(*) FILTER (WHERE c.proven_at IS NULL),"
                    + " coalesce(sum(c.rows) FILTER (WHERE c.proven_at IS NOT NULL), 0)"
                    + " FROM " + schema + ".chunks c JOIN " + schema + ".tables t USING (nspname, relname) GROUP BY 1, 2, 3")) {
      while (rs.next()) {
        Catalog.Table table = new Catalog.Table(rs.getString(1), rs.getString(2));
        totals.put(table, new TableTotals(table, rs.getString(3), rs.getLong(4), rs.getLong(5), rs.getLong(6)));
      }
    }
    return totals;
  }

  /** A table's chunks in key order; {@code unprovenOnly} leaves out those with a proof. */
  List<Chunk> chunks(Connection target, Catalog.Table table, boolean unprovenOnly, int limit) throws SQLException {
    List<Chunk> chunks = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT seq, lower, upper, checks, strikes, proven_at IS NOT NULL, coalesce(rows, 0) FROM " + schema + ".chunks"
                + " WHERE nspname = ? AND relname = ?"
                // Unproven ones least checked first: a chunk that keeps changing does not hold up the others.
                + (unprovenOnly ? " AND proven_at IS NULL ORDER BY checks, seq" : " ORDER BY seq") + " LIMIT ?")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          chunks.add(
              new Chunk(table, rs.getInt(1), texts(rs.getArray(2)), texts(rs.getArray(3)), rs.getInt(4), rs.getInt(5),
                  rs.getBoolean(6), rs.getLong(7)));
        }
      }
    }
    return chunks;
  }

  /** Tables with unproven chunks, fewest checks first: the pass goes round them all before retrying any. */
  List<Catalog.Table> tablesWithUnprovenChunks(Connection target, int limit) throws SQLException {
    List<Catalog.Table> tables = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT nspname, relname FROM " + schema + ".chunks WHERE proven_at IS NULL"
                + " GROUP BY nspname, relname ORDER BY min(checks), nspname, relname LIMIT ?")) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(new Catalog.Table(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return tables;
  }

  /** A chunk's checksums matched in these snapshots: it is proven. */
  void proved(Connection target, Chunk chunk, String sourceSnapshot, String targetSnapshot, long rows) throws SQLException {
    try (PreparedStatement ps =
        target.prepareStatement(
            "UPDATE " + schema + ".chunks SET source_snapshot = ?::pg_snapshot, target_snapshot = ?::pg_snapshot, rows = ?,"
                + " proven_at = clock_timestamp(), checks = checks + 1, strikes = 0"
                + " WHERE nspname = ? AND relname = ? AND seq = ?")) {
      ps.setString(1, sourceSnapshot);
      ps.setString(2, targetSnapshot);
      ps.setLong(3, rows);
      ps.setString(4, chunk.table().schema());
      ps.setString(5, chunk.table().name());
      ps.setInt(6, chunk.seq());
      ps.executeUpdate();
    }
  }

  /**
   * A chunk's checksums differed; {@code unexplained}: with no change in flight to account for
   * it, a strike. Returns the chunk's strikes.
   */
  int differed(Connection target, Chunk chunk, boolean unexplained) throws SQLException {
    try (PreparedStatement ps =
        target.prepareStatement(
            "UPDATE " + schema + ".chunks SET checks = checks + 1, strikes = CASE WHEN ? THEN strikes + 1 ELSE 0 END"
                + " WHERE nspname = ? AND relname = ? AND seq = ? RETURNING strikes")) {
      ps.setBoolean(1, unexplained);
      ps.setString(2, chunk.table().schema());
      ps.setString(3, chunk.table().name());
      ps.setInt(4, chunk.seq());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  // ---- changes a proof may not cover ----------------------------------------------------------

  /** Records changed keys (a key recorded twice is kept once). */
  void addPending(Connection target, List<ChangedKey> keys) throws SQLException {
    if (keys.isEmpty()) {
      return;
    }
    List<List<Object>> rows = new ArrayList<>();
    for (ChangedKey k : keys) {
      rows.add(List.of(k.schema(), k.table(), k.key(), k.xid()));
    }
    try (PreparedStatement ps =
        target.prepareStatement(
            "INSERT INTO " + schema + ".pending (nspname, relname, key, side, xid)"
                + " SELECT e->>0, e->>1, ARRAY(SELECT jsonb_array_elements_text(e->2)), 's', (e->>3)::xid8"
                + " FROM jsonb_array_elements(?::jsonb) e ON CONFLICT DO NOTHING")) {
      ps.setString(1, json(rows));
      ps.executeUpdate();
    }
  }

  /** Tables that have changed keys waiting. */
  List<Catalog.Table> tablesWithPending(Connection target, int limit) throws SQLException {
    List<Catalog.Table> tables = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement("SELECT DISTINCT nspname, relname FROM " + schema + ".pending ORDER BY 1, 2 LIMIT ?")) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(new Catalog.Table(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return tables;
  }

  /** Every table's distinct changed keys (not the whole-table ones), in one query. */
  Map<Catalog.Table, List<List<String>>> allPendingKeys(Connection target) throws SQLException {
    Map<Catalog.Table, List<List<String>>> keys = new java.util.HashMap<>();
    try (Statement s = target.createStatement();
        ResultSet rs = s.executeQuery("SELECT DISTINCT nspname, relname, key FROM " + schema + ".pending WHERE key <> '{}'")) {
      while (rs.next()) {
        keys.computeIfAbsent(new Catalog.Table(rs.getString(1), rs.getString(2)), t -> new ArrayList<>()).add(texts(rs.getArray(3)));
      }
    }
    return keys;
  }

  /** Up to {@code limit} distinct changed keys of a table (not the whole-table ones). */
  List<List<String>> pendingKeys(Connection target, Catalog.Table table, int limit) throws SQLException {
    List<List<String>> keys = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT DISTINCT key FROM " + schema + ".pending WHERE nspname = ? AND relname = ? AND key <> '{}' LIMIT ?")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          keys.add(texts(rs.getArray(1)));
        }
      }
    }
    return keys;
  }

  /**
   * The keys of a table changed on the source in transactions the snapshot does not hold: rows
   * that may differ because their change is in flight. {@code []} among them: the whole table.
   */
  List<List<String>> changedAfter(Connection target, Catalog.Table table, String sourceSnapshot) throws SQLException {
    List<List<String>> keys = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT DISTINCT key FROM " + schema + ".pending WHERE nspname = ? AND relname = ? AND side = 's'"
                + " AND NOT pg_visible_in_snapshot(xid, ?::pg_snapshot)")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.name());
      ps.setString(3, sourceSnapshot);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          keys.add(texts(rs.getArray(1)));
        }
      }
    }
    return keys;
  }

  /**
   * These keys were equal on both sides in these snapshots: their changes that the snapshots
   * hold are covered. Changes they do not hold stay.
   */
  int covered(Connection target, Catalog.Table table, List<List<String>> keys, String sourceSnapshot, String targetSnapshot)
      throws SQLException {
    if (keys.isEmpty()) {
      return 0;
    }
    try (PreparedStatement ps =
        target.prepareStatement(
            "DELETE FROM " + schema + ".pending p USING jsonb_array_elements(?::jsonb) e"
                + " WHERE p.nspname = ? AND p.relname = ? AND p.key = ARRAY(SELECT jsonb_array_elements_text(e))"
                + " AND pg_visible_in_snapshot(p.xid, CASE p.side WHEN 's' THEN ?::pg_snapshot ELSE ?::pg_snapshot END)")) {
      ps.setString(1, json(new ArrayList<>(keys)));
      ps.setString(2, table.schema());
      ps.setString(3, table.name());
      ps.setString(4, sourceSnapshot);
      ps.setString(5, targetSnapshot);
      return ps.executeUpdate();
    }
  }

  /**
   * Truncates (and writes to tables without a key): every proof of the table that does not hold
   * the transaction is withdrawn, and the change removed, in one transaction. The chunks are then
   * proven again, in snapshots that hold it. Returns the proofs withdrawn.
   */
  int withdrawProofsOfWholeTableChanges(Connection target) throws SQLException {
    boolean autoCommit = target.getAutoCommit();
    target.setAutoCommit(false);
    int withdrawn = 0;
    try {
      List<String[]> changes = new ArrayList<>();
      try (Statement s = target.createStatement();
          ResultSet rs = s.executeQuery("SELECT nspname, relname, side::text, xid::text FROM " + schema + ".pending WHERE key = '{}'")) {
        while (rs.next()) {
          changes.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
        }
      }
      try (PreparedStatement withdraw =
              target.prepareStatement(
                  "UPDATE " + schema + ".chunks SET source_snapshot = NULL, target_snapshot = NULL, rows = NULL, proven_at = NULL"
                      + " WHERE nspname = ? AND relname = ? AND proven_at IS NOT NULL"
                      + " AND NOT pg_visible_in_snapshot(?::xid8, CASE WHEN ? = 's' THEN source_snapshot ELSE target_snapshot END)");
          PreparedStatement remove =
              target.prepareStatement(
                  "DELETE FROM " + schema + ".pending WHERE nspname = ? AND relname = ? AND key = '{}' AND side = ?::\"char\""
                      + " AND xid = ?::xid8")) {
        for (String[] c : changes) {
          withdraw.setString(1, c[0]);
          withdraw.setString(2, c[1]);
          withdraw.setString(3, c[3]);
          withdraw.setString(4, c[2]);
          withdrawn += withdraw.executeUpdate();
          remove.setString(1, c[0]);
          remove.setString(2, c[1]);
          remove.setString(3, c[2]);
          remove.setString(4, c[3]);
          remove.executeUpdate();
        }
      }
      target.commit();
      return withdrawn;
    } catch (SQLException | RuntimeException e) {
      target.rollback();
      throw e;
    } finally {
      target.setAutoCommit(autoCommit);
    }
  }

  // ---- reading it -----------------------------------------------------------------------------

  PreverifyCoverage coverage(Connection target) throws SQLException {
    if (!exists(target)) {
      return new PreverifyCoverage(false, 0, 0, 0, 0, 0, 0, null, 0, 0, Instant.now());
    }
    try (Statement s = target.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM " + schema + ".tables),"
                    + " count(*), count(*) FILTER (WHERE checks > 0 OR proven_at IS NOT NULL),"
                    + " count(*) FILTER (WHERE proven_at IS NOT NULL), coalesce(sum(rows) FILTER (WHERE proven_at IS NOT NULL), 0),"
                    + " (SELECT coalesce(sum(greatest(estimate, 0)), 0) FROM " + schema + ".tables), min(proven_at),"
                    + " (SELECT count(*) FROM (SELECT DISTINCT nspname, relname, key FROM " + schema + ".pending) p),"
                    + " clock_timestamp(), (SELECT count(*) FROM " + schema + ".state WHERE k = 'planned'),"
                    + " (SELECT coalesce((extract(epoch FROM clock_timestamp() - min(at)) * 1000)::bigint, 0) FROM " + schema + ".pending)"
                    + " FROM " + schema + ".chunks")) {
      rs.next();
      Timestamp oldest = rs.getTimestamp(7);
      return new PreverifyCoverage(
          rs.getLong(10) > 0,
          rs.getLong(1),
          rs.getLong(2),
          rs.getLong(3),
          rs.getLong(4),
          rs.getLong(5),
          rs.getLong(6),
          oldest == null ? null : oldest.toInstant(),
          rs.getLong(8),
          Math.max(0, rs.getLong(11)),
          rs.getTimestamp(9).toInstant());
    }
  }

  /** Drops the schema (the caller removes the triggers that use its function first). */
  void drop(Connection target) throws SQLException {
    try (Statement s = target.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  private static List<String> texts(Array array) throws SQLException {
    return array == null ? null : Arrays.asList((String[]) array.getArray());
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

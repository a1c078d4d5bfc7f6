package dev.ferry.activities.copy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * The copy's bookkeeping, a small schema on the target ({@code ferry_copy_<tag>}) that every
 * worker reads and writes, so nothing of it travels through Temporal:
 *
 * <ul>
 *   <li>{@code state}: the epoch, each epoch's snapshot (its id and its {@code pg_snapshot}), what
 *       is done;
 *   <li>{@code tables}: every table with data, its columns, how it is split, where it stands
 *       ({@code copying} → {@code copied} → {@code checked}) and the snapshot its rows came from;
 *   <li>{@code chunks}: a table's key ranges (one, unbounded, for a table copied whole), each with
 *       its owner, and once copied its rows, bytes and hash, committed in the same transaction as
 *       the rows themselves: a chunk is copied exactly once or not at all;
 *   <li>{@code indexes}: what to build per table once its data is in;
 *   <li>{@code schema_dump}: the schema as {@code pg_dump -Fc --schema-only} wrote it at the
 *       snapshot, for the finish on whichever worker runs it.
 * </ul>
 *
 * Only this package writes it. {@link #copiedTables} lets the trigger sync read which snapshot each
 * table's rows came from. Dropped at the end of the copy.
 */
public final class CopyBook {
  static final String SCHEMA_PREFIX = "ferry_copy_";

  static final String COPYING = "copying";
  static final String COPIED = "copied";
  static final String CHECKED = "checked";
  static final String PENDING = "pending";
  static final String BUILT = "built";
  /**
   * Who computes the source's half of the row checksums (state {@code checksum}); the target
   * always computes the verification's own, {@code hashtextextended(ROW(t.*)::text, 0)}, over
   * what it holds. {@link #CHECKSUM_WORKER}: the worker, from each streamed row ({@link
   * RecordText}), so the source renders each row once (both databases in UTF-8, the stream's
   * encoding); {@link #CHECKSUM_SOURCE}: the source, as an extra column of the copy's query
   * (other encodings, where the streamed bytes are not the database's).
   */
  static final String CHECKSUM_WORKER = "worker";
  static final String CHECKSUM_SOURCE = "source";

  private CopyBook() {}

  /** Creates the schema and its tables, or finds them. */
  static void create(Connection c, String schema, String runId) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      // Names the run, so that the sweep can remove it once the run has ended (CopyLeftovers).
      s.execute(
          "COMMENT ON SCHEMA " + schema + " IS "
              + dev.ferry.activities.postgres.RunComment.literal(runId, "a streaming copy's bookkeeping"));
      s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".state (k text PRIMARY KEY, v text NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS " + schema + ".schema_dump (id int PRIMARY KEY, dump bytea NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".tables ("
              + " id int PRIMARY KEY,"
              + " source_oid bigint NOT NULL,"
              + " nspname text NOT NULL,"
              + " relname text NOT NULL,"
              // COPY FROM's column list (no generated columns) and the list read on both sides.
              + " copy_columns text NOT NULL,"
              + " read_columns text NOT NULL,"
              + " columns int NOT NULL,"
              // Positions (0-based) in read_columns of generated columns, stripped before COPY FROM.
              + " generated int[],"
              + " split_column text,"
              + " bytes bigint NOT NULL,"
              + " state text NOT NULL DEFAULT 'copying',"
              + " snapshot text,"
              + " owner text,"
              + " recopies int NOT NULL DEFAULT 0,"
              // Checked only once its indexes are built: its check differed, and finding the
              // differing key ranges reads them over the key's index.
              + " check_after_indexes boolean NOT NULL DEFAULT false,"
              + " rows bigint)");
      // The target table's oid when it was checked: the report finds a table dropped and created
      // again since (a stale plan attempt's restore, anything else), which no row count would.
      // Added apart, for a book an earlier version of Ferry created.
      s.execute("ALTER TABLE " + schema + ".tables ADD COLUMN IF NOT EXISTS checked_oid oid");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".chunks ("
              + " table_id int NOT NULL,"
              + " n int NOT NULL,"
              + " lower bigint,"
              + " upper bigint,"
              + " state text NOT NULL DEFAULT 'pending',"
              + " owner text,"
              + " epoch int,"
              + " rows bigint,"
              + " bytes bigint,"
              + " hash_high bigint,"
              + " hash_low bigint,"
              + " PRIMARY KEY (table_id, n))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + schema + ".indexes ("
              + " id int PRIMARY KEY,"
              + " table_id int NOT NULL,"
              + " dump_id int NOT NULL,"
              + " name text NOT NULL,"
              + " create_sql text NOT NULL,"
              // For a primary key or unique constraint built as an index first: what adds it.
              + " constraint_sql text,"
              + " state text NOT NULL DEFAULT 'pending',"
              + " owner text)");
    }
  }

  /** The target's oid now of the table a {@code tables} row (alias {@code t}) names, or null. */
  static final String CURRENT_OID =
      "(SELECT k.oid FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
          + " WHERE n.nspname = t.nspname AND k.relname = t.relname)";

  static boolean exists(Connection c, String schema) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(? || '.state') IS NOT NULL")) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Whether the copy's finish has recorded its result (the claim on the target released with it). */
  static boolean finished(Connection c, String schema) throws SQLException {
    return exists(c, schema) && state(c, schema, "finished").isPresent();
  }

  /** Drops the schema; dropping what is gone succeeds. */
  static void drop(Connection c, String schema) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  static Optional<String> state(Connection c, String schema, String key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT v FROM " + schema + ".state WHERE k = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  static void putState(Connection c, String schema, String key, String value) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO " + schema + ".state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")) {
      ps.setString(1, key);
      ps.setString(2, value);
      ps.executeUpdate();
    }
  }

  /**
   * Publishes an epoch's snapshot: its id and its visibility in one statement. Readers wait for the
   * id and then read the visibility; written apart, a reader between the two found the id and no
   * visibility.
   */
  static void publishSnapshot(Connection c, String schema, int epoch, String id, String visibility)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO " + schema + ".state (k, v) VALUES (?, ?), (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")) {
      ps.setString(1, visibilityKey(epoch));
      ps.setString(2, visibility);
      ps.setString(3, snapshotKey(epoch));
      ps.setString(4, id);
      ps.executeUpdate();
    }
  }

  /** The key under which an epoch's exported snapshot id is published. */
  static String snapshotKey(int epoch) {
    return "epoch." + epoch + ".snapshot";
  }

  /** The key of an epoch's {@code pg_current_snapshot()} (which transactions its rows see). */
  static String visibilityKey(int epoch) {
    return "epoch." + epoch + ".visibility";
  }

  /**
   * For the trigger sync, once the copy is done: the source's oid of every table copied, with the
   * {@code pg_snapshot} its rows were read at, as {@code oid → snapshot}. Tables a lost snapshot's
   * copy had finished keep that snapshot; the capture's changes are trimmed table by table.
   */
  public static java.util.Map<Long, String> copiedTables(Connection target, String copyKey) throws SQLException {
    String schema = SCHEMA_PREFIX + tagOf(copyKey);
    java.util.Map<Long, String> tables = new java.util.HashMap<>();
    try (Statement s = target.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT source_oid, snapshot FROM " + schema + ".tables WHERE state = '" + CHECKED + "'")) {
      while (rs.next()) {
        tables.put(rs.getLong(1), rs.getString(2));
      }
    }
    return tables;
  }

  /** Whether a copy's tables are all checked (and so {@link #copiedTables} is complete). */
  public static boolean allChecked(Connection target, String copyKey) throws SQLException {
    String schema = SCHEMA_PREFIX + tagOf(copyKey);
    try (Statement s = target.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + schema + ".tables WHERE state <> '" + CHECKED + "'")) {
      rs.next();
      return rs.getLong(1) == 0;
    }
  }

  static String tagOf(String idempotencyKey) {
    String hex = idempotencyKey.replace("-", "").toLowerCase(java.util.Locale.ROOT);
    return hex.length() > 12 ? hex.substring(0, 12) : hex;
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.ChangeFeed;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * For the logical method, which captures nothing a pre-verification could read: a light key
 * capture beside the subscription. Each app table gets an {@code AFTER} row trigger that writes
 * the changed key (old and new when the key changes) and the transaction's id into {@code
 * touched}, a table without an index, in {@code ferry_sync_<tag>_keys} on the source (named after
 * the sync, whose drain then needs no quiet period: {@link LogicalSync#drain}); a truncate,
 * or any write to a table without a primary key, writes {@code []} (every row).
 *
 * <p>Why it is exact: the trigger's row commits with the write, or neither does, so every
 * committed change of an app table is there with its transaction; what wrote before the triggers
 * existed committed before them ({@code CREATE TRIGGER} waits for the table's writers), so before
 * any proof. Why the target then holds every change a source snapshot holds: each such change
 * committed before the WAL position read in that snapshot, and the replication slot confirms a
 * position only once the subscriber has committed everything before it.
 *
 * <p>What it costs the app: one insert per changed row, as the trigger method's own capture.
 */
final class LogicalChangeFeed implements ChangeFeed {
  private static final int TABLES_PER_TRANSACTION = 100;

  private final String schema;
  private final String slot;

  LogicalChangeFeed(String schema, String slot) {
    this.schema = schema;
    this.slot = slot;
  }

  /** The capture's schema on the source: named after the sync, so that its drain finds it. */
  static String schemaFor(SyncSession session) {
    return session.schema() + "_keys";
  }

  /** Whether this sync's key capture is installed (a pre-verified run). */
  static boolean installed(LogicalSide source, SyncSession session) {
    return source
        .queryOne("SELECT to_regclass(?) IS NOT NULL", rs -> rs.getBoolean(1), schemaFor(session) + ".touched")
        .orElse(false);
  }

  private String triggerName() {
    return schema;
  }

  /** The log, the functions and a trigger pair on every table that lacks them, a hundred tables a transaction. */
  @Override
  public void install(Connection source, Connection target) throws SQLException {
    try (Statement st = source.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      st.execute("COMMENT ON SCHEMA " + schema + " IS 'Ferry: keys changed during a verification under way; dropped when the run ends'");
      st.execute("CREATE TABLE IF NOT EXISTS " + schema + ".touched (rel oid NOT NULL, key text[], xid xid8 NOT NULL DEFAULT pg_current_xact_id())");
      st.execute(
          "CREATE OR REPLACE FUNCTION " + schema + ".capture_whole() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
              + TriggerCapture.SETTINGS + " AS $f$ BEGIN INSERT INTO " + schema + ".touched (rel, key) VALUES (TG_RELID, '{}');"
              + " RETURN NULL; END $f$");
    }
    Map<Long, CapturedTable> keyed = CapturedTable.read(source);
    List<String> have = tablesWithTriggers(source);
    List<Object[]> missing = new ArrayList<>();
    for (CapturedTable t : keyed.values()) {
      if (!have.contains(t.table().sql())) {
        missing.add(new Object[] {t.table(), t});
      }
    }
    for (Catalog.Table t : Catalog.tablesWithRows(source)) {
      boolean hasKey = keyed.values().stream().anyMatch(k -> k.table().equals(t));
      if (!hasKey && !have.contains(t.sql())) {
        missing.add(new Object[] {t, null});
      }
    }
    boolean autoCommit = source.getAutoCommit();
    source.setAutoCommit(false);
    try (Statement st = source.createStatement()) {
      for (int i = 0; i < missing.size(); i++) {
        if (i % TABLES_PER_TRANSACTION == 0) {
          st.execute("SET LOCAL lock_timeout = '10s'");
        }
        Catalog.Table table = (Catalog.Table) missing.get(i)[0];
        CapturedTable keyedTable = (CapturedTable) missing.get(i)[1];
        String function = schema + ".capture_whole";
        if (keyedTable != null) {
          function = schema + ".capture_" + keyedTable.oid();
          String insert = "INSERT INTO " + schema + ".touched (rel, key) VALUES (TG_RELID, ";
          st.execute(
              "CREATE OR REPLACE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
                  + TriggerCapture.SETTINGS + " AS $f$ BEGIN"
                  + " IF TG_OP = 'DELETE' THEN " + insert + keyedTable.keyArray("OLD") + ");"
                  + " ELSE " + insert + keyedTable.keyArray("NEW") + ");"
                  + "  IF TG_OP = 'UPDATE' AND " + keyedTable.keyTuple("OLD.") + " IS DISTINCT FROM " + keyedTable.keyTuple("NEW.")
                  + "  THEN " + insert + keyedTable.keyArray("OLD") + "); END IF;"
                  + " END IF; RETURN NULL; END $f$");
        }
        st.execute("DROP TRIGGER IF EXISTS " + triggerName() + " ON " + table.sql());
        st.execute("DROP TRIGGER IF EXISTS " + triggerName() + "_t ON " + table.sql());
        st.execute(
            "CREATE TRIGGER " + triggerName() + " AFTER INSERT OR UPDATE OR DELETE ON " + table.sql()
                + " FOR EACH ROW EXECUTE FUNCTION " + function + "()");
        st.execute(
            "CREATE TRIGGER " + triggerName() + "_t AFTER TRUNCATE ON " + table.sql()
                + " FOR EACH STATEMENT EXECUTE FUNCTION " + schema + ".capture_whole()");
        if (i % TABLES_PER_TRANSACTION == TABLES_PER_TRANSACTION - 1 || i == missing.size() - 1) {
          source.commit();
        }
      }
    } catch (SQLException | RuntimeException e) {
      source.rollback();
      throw e;
    } finally {
      source.setAutoCommit(autoCommit);
    }
  }

  @Override
  public void forgetEarlier(Connection source, Connection target) throws SQLException {
    try (Statement s = source.createStatement()) {
      s.execute("DELETE FROM " + schema + ".touched");
    }
  }

  @Override
  public String markerSql() {
    // Read after the snapshot was taken: every transaction it holds committed before this position.
    return "pg_current_wal_insert_lsn()::text";
  }

  @Override
  public boolean targetIncludes(Connection source, String snapshot, String marker) throws SQLException {
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()")) {
      ps.setString(1, marker);
      ps.setString(2, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  @Override
  public List<ChangedKey> take(Connection source, Connection target, boolean consume, int limit) throws SQLException {
    String rows =
        consume
            ? "(DELETE FROM " + schema + ".touched WHERE ctid = ANY (ARRAY(SELECT ctid FROM " + schema + ".touched LIMIT "
                + limit + ")) RETURNING rel, key, xid)"
            : "(SELECT rel, key, xid FROM " + schema + ".touched)";
    return TriggerChangeFeed.changedKeys(source, "WITH d AS " + rows + TriggerChangeFeed.SELECT_KEYS);
  }

  @Override
  public List<ChangedKey> unappliedAfter(Connection source, String snapshot) {
    // Every committed change is in touched already.
    return List.of();
  }

  /** Drops the triggers table by table (a short lock each), then the schema. Removing what is gone succeeds. */
  @Override
  public void remove(Connection source) throws SQLException {
    List<String> triggers = new ArrayList<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT quote_ident(t.tgname) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(r.relname)"
                + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname IN (?, ?)")) {
      ps.setString(1, triggerName());
      ps.setString(2, triggerName() + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
        }
      }
    }
    try (Statement st = source.createStatement()) {
      st.execute("SET lock_timeout = '10s'");
      for (String trigger : triggers) {
        st.execute("DROP TRIGGER IF EXISTS " + trigger);
      }
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      st.execute("RESET lock_timeout");
    }
  }

  /** Tables (as {@code "schema"."name"}) carrying both triggers. */
  private List<String> tablesWithTriggers(Connection source) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT n.nspname, r.relname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid"
                + " JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname = ? AND EXISTS (SELECT 1 FROM pg_trigger u WHERE u.tgrelid = t.tgrelid AND u.tgname = ?)")) {
      ps.setString(1, triggerName());
      ps.setString(2, triggerName() + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(new Catalog.Table(rs.getString(1), rs.getString(2)).sql());
        }
      }
    }
    return tables;
  }
}

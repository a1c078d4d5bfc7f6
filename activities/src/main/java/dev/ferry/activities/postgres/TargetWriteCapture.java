package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Records in the verification's {@code pending} the key of every row written to the target by
 * anyone but the sync: a proven chunk someone changes on the target afterwards is compared again.
 *
 * <p>Both sync methods write the target with {@code session_replication_role = replica} (the
 * trigger applier sets it, a subscription's apply worker runs so), and ordinary triggers do not
 * fire for such sessions: this capture costs the sync nothing and sees every other session's
 * insert, update, delete and truncate. What it cannot see: a session that itself sets {@code
 * session_replication_role = replica} (a superuser's), a trigger disabled by hand, a change below
 * SQL (storage). One generic function serves every table, its key columns passed as the trigger's
 * arguments; a keyless table records {@code []} (every row).
 */
final class TargetWriteCapture {
  private static final int TABLES_PER_TRANSACTION = 100;

  private TargetWriteCapture() {}

  /** The triggers' name on every table. */
  static String triggerName(VerifyLedger ledger) {
    return ledger.schema();
  }

  /** Creates (or replaces) the capture function. */
  static void installFunction(Connection target, VerifyLedger ledger) throws SQLException {
    String s = ledger.schema();
    String insert = "INSERT INTO " + s + ".pending (nspname, relname, key, side, xid) VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, ";
    String keyOf = "(SELECT coalesce(array_agg(to_jsonb(%s) ->> a ORDER BY i), '{}') FROM unnest(TG_ARGV) WITH ORDINALITY AS k(a, i))";
    try (Statement st = target.createStatement()) {
      st.execute(
          "CREATE OR REPLACE FUNCTION " + s + ".capture_target() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
              + " SET search_path = pg_catalog, pg_temp SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'"
              + " SET extra_float_digits = 3 SET TimeZone = 'UTC' AS $f$ BEGIN"
              + " IF TG_OP = 'TRUNCATE' THEN " + insert + "'{}', 't', pg_current_xact_id()) ON CONFLICT DO NOTHING; RETURN NULL; END IF;"
              + " IF TG_OP <> 'DELETE' THEN " + insert + keyOf.formatted("NEW") + ", 't', pg_current_xact_id()) ON CONFLICT DO NOTHING; END IF;"
              + " IF TG_OP <> 'INSERT' THEN " + insert + keyOf.formatted("OLD") + ", 't', pg_current_xact_id()) ON CONFLICT DO NOTHING; END IF;"
              + " RETURN NULL; END $f$");
    }
  }

  /**
   * From now on the capture records nothing (the target is about to take the app's writes); the
   * triggers stay until {@link #remove}, which takes each table's lock.
   */
  static void silence(Connection target, VerifyLedger ledger) throws SQLException {
    if (!ledger.exists(target)) {
      return;
    }
    try (Statement st = target.createStatement()) {
      st.execute(
          "CREATE OR REPLACE FUNCTION " + ledger.schema() + ".capture_target() RETURNS trigger LANGUAGE plpgsql"
              + " AS $f$ BEGIN RETURN NULL; END $f$");
    }
  }

  /**
   * Puts the triggers on every table that lacks them, a hundred tables a transaction (a lock
   * each; one transaction over thousands of tables would run out of lock slots).
   */
  static void install(Connection target, VerifyLedger ledger, Map<Catalog.Table, List<Catalog.KeyColumn>> tables)
      throws SQLException {
    List<Catalog.Table> missing = new ArrayList<>();
    List<String> have = existing(target, ledger);
    for (Catalog.Table t : tables.keySet()) {
      if (!have.contains(t.sql())) {
        missing.add(t);
      }
    }
    String name = triggerName(ledger);
    boolean autoCommit = target.getAutoCommit();
    target.setAutoCommit(false);
    try (Statement st = target.createStatement()) {
      for (int i = 0; i < missing.size(); i++) {
        if (i % TABLES_PER_TRANSACTION == 0) {
          st.execute("SET LOCAL lock_timeout = '10s'");
        }
        Catalog.Table t = missing.get(i);
        List<String> args = new ArrayList<>();
        for (Catalog.KeyColumn k : tables.get(t)) {
          args.add("'" + k.name().replace("'", "''") + "'");
        }
        st.execute("DROP TRIGGER IF EXISTS " + name + " ON " + t.sql());
        st.execute("DROP TRIGGER IF EXISTS " + name + "_t ON " + t.sql());
        st.execute(
            "CREATE TRIGGER " + name + " AFTER INSERT OR UPDATE OR DELETE ON " + t.sql() + " FOR EACH ROW EXECUTE FUNCTION "
                + ledger.schema() + ".capture_target(" + String.join(", ", args) + ")");
        st.execute(
            "CREATE TRIGGER " + name + "_t AFTER TRUNCATE ON " + t.sql() + " FOR EACH STATEMENT EXECUTE FUNCTION "
                + ledger.schema() + ".capture_target()");
        if (i % TABLES_PER_TRANSACTION == TABLES_PER_TRANSACTION - 1 || i == missing.size() - 1) {
          target.commit();
        }
      }
    } catch (SQLException | RuntimeException e) {
      target.rollback();
      throw e;
    } finally {
      target.setAutoCommit(autoCommit);
    }
  }

  /** Drops the triggers, table by table. Dropping what is gone succeeds. */
  static void remove(Connection target, VerifyLedger ledger) throws SQLException {
    String name = triggerName(ledger);
    List<String> triggers = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT quote_ident(t.tgname) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(r.relname)"
                + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname IN (?, ?)")) {
      ps.setString(1, name);
      ps.setString(2, name + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
        }
      }
    }
    try (Statement st = target.createStatement()) {
      st.execute("SET lock_timeout = '10s'");
      for (String trigger : triggers) {
        st.execute("DROP TRIGGER IF EXISTS " + trigger);
      }
      st.execute("RESET lock_timeout");
    }
  }

  /** Tables (as {@code "schema"."name"}) that carry both triggers already. */
  private static List<String> existing(Connection target, VerifyLedger ledger) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT n.nspname, r.relname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid"
                + " JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname = ? AND EXISTS (SELECT 1 FROM pg_trigger u WHERE u.tgrelid = t.tgrelid AND u.tgname = ?)")) {
      ps.setString(1, triggerName(ledger));
      ps.setString(2, triggerName(ledger) + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(new Catalog.Table(rs.getString(1), rs.getString(2)).sql());
        }
      }
    }
    return tables;
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.RunComment;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The trigger method's capture on the source, all in one schema of Ferry's ({@link
 * SyncSession#schema()}):
 *
 * <ul>
 *   <li>{@code changes}: one row per changed key ({@code key}, the primary key as text), or per
 *       truncate ({@code key} null), with the writing transaction's id and time;
 *   <li>{@code state}: what setup recorded (the app's schema, the setup's result);
 *   <li>one {@code SECURITY DEFINER} function per table, called by an {@code AFTER} row trigger
 *       for insert, update (old and new key when the key changes) and delete, and one for
 *       truncate. The functions run as Ferry's role, so the app's own roles need no grant on
 *       Ferry's schema.
 * </ul>
 *
 * Installing takes a brief lock on each table, the same a {@code CREATE TRIGGER} always takes.
 */
final class TriggerCapture {
  /**
   * The capture functions' own settings: a key captured as text must read back as the same
   * value whatever the writing session's DateStyle, IntervalStyle, float digits or time zone
   * ({@code 01/02/2024} is two different days under two DateStyles).
   */
  static final String SETTINGS =
      " SET search_path = pg_catalog, pg_temp SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'"
          + " SET extra_float_digits = 3 SET TimeZone = 'UTC'";

  private TriggerCapture() {}

  /** Whether the schema and its state table exist. */
  static boolean installed(Connection c, SyncSession s) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT to_regclass('" + s.schema() + ".state') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /**
   * Creates the schema, tables, functions and triggers in one transaction: every table is
   * captured from the same instant on, or none is. Each table's lock is waited for at most
   * {@code lockWait}; {@code beat} is called after each table.
   */
  static void install(Connection c, SyncSession s, Collection<CapturedTable> tables, Duration lockWait, Runnable beat)
      throws SQLException {
    String schema = s.schema();
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL lock_timeout = '" + lockWait.toMillis() + "ms'");
      st.execute("CREATE SCHEMA " + schema);
      // Names the run, so a sweep can remove it if the run ends without tearing it down.
      st.execute("COMMENT ON SCHEMA " + schema + " IS "
          + RunComment.literal(s.workflowId(), "change capture of a migration under way; dropped when it ends"));
      st.execute(
          "CREATE TABLE " + schema + ".changes ("
              + " id bigserial PRIMARY KEY,"
              + " rel oid NOT NULL,"
              + " key text[],"
              + " xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
              + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
      st.execute("CREATE TABLE " + schema + ".state (k text PRIMARY KEY, v text NOT NULL)");
      st.execute(
          "CREATE FUNCTION " + schema + ".capture_truncate() RETURNS trigger LANGUAGE plpgsql"
              + " SECURITY DEFINER" + SETTINGS + " AS $f$ BEGIN"
              + " INSERT INTO " + schema + ".changes (rel, key) VALUES (TG_RELID, NULL); RETURN NULL; END $f$");
      for (CapturedTable t : tables) {
        String function = schema + ".capture_" + t.oid();
        String insert = "INSERT INTO " + schema + ".changes (rel, key) VALUES (TG_RELID, ";
        st.execute(
            "CREATE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql"
                + " SECURITY DEFINER" + SETTINGS + " AS $f$ BEGIN"
                + " IF TG_OP = 'DELETE' THEN " + insert + t.keyArray("OLD") + ");"
                + " ELSE " + insert + t.keyArray("NEW") + ");"
                + "  IF TG_OP = 'UPDATE' AND " + t.keyTuple("OLD.") + " IS DISTINCT FROM " + t.keyTuple("NEW.")
                + "  THEN " + insert + t.keyArray("OLD") + "); END IF;"
                + " END IF; RETURN NULL; END $f$");
        st.execute(
            "CREATE TRIGGER " + s.triggerName() + " AFTER INSERT OR UPDATE OR DELETE ON " + t.table().sql()
                + " FOR EACH ROW EXECUTE FUNCTION " + function + "()");
        st.execute(
            "CREATE TRIGGER " + s.triggerName() + "_t AFTER TRUNCATE ON " + t.table().sql()
                + " FOR EACH STATEMENT EXECUTE FUNCTION " + schema + ".capture_truncate()");
        beat.run();
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /**
   * Drops the triggers table by table (a short lock each, rather than one lock on every table
   * at once), then the schema with its functions and change table. Removing what is gone
   * succeeds. Each lock is waited for at most {@code lockWait}; {@code beat} is called after each
   * table.
   */
  static void remove(Connection c, SyncSession s, Duration lockWait, Runnable beat) throws SQLException {
    List<String> triggers = new ArrayList<>();
    try (var ps =
        c.prepareStatement(
            "SELECT quote_ident(t.tgname) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(r.relname)"
                + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname IN (?, ?)")) {
      ps.setString(1, s.triggerName());
      ps.setString(2, s.triggerName() + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
        }
      }
    }
    try (Statement st = c.createStatement()) {
      st.execute("SET lock_timeout = '" + lockWait.toMillis() + "ms'");
      for (String trigger : triggers) {
        st.execute("DROP TRIGGER IF EXISTS " + trigger);
        beat.run();
      }
      st.execute("DROP SCHEMA IF EXISTS " + s.schema() + " CASCADE");
      st.execute("RESET lock_timeout");
    }
  }

  /**
   * The sessions, other than {@code c}'s, that hold a lock of any mode on one of the app's tables
   * ({@link Catalog#USER_RELATION_FILTER}): among them, those that keep the capture's DDL waiting
   * (a writer for creating a trigger, a reader too for dropping one). Each by pid, application,
   * user, state, how long its transaction has been open and which tables it holds; five at most,
   * the oldest transactions first. Never the query's text: it may hold the app's data, and this
   * goes into the run's history. Best effort: what it could not read is said instead, so that it
   * never hides the failure it explains.
   */
  static String lockHolders(Connection c) {
    List<String> holders = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.state, ''),"
                    + " coalesce(extract(epoch FROM clock_timestamp() - a.xact_start)::bigint, 0),"
                    + " string_agg(DISTINCT l.relation::regclass::text, ', ')"
                    + " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    + " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()"
                    + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    + " AND c.relkind IN ('r', 'p') AND" + Catalog.USER_RELATION_FILTER
                    + " GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start"
                    + " ORDER BY a.xact_start NULLS LAST, a.pid LIMIT 5")) {
      while (rs.next()) {
        holders.add(
            "pid " + rs.getInt(1) + " (application '" + rs.getString(2) + "', user " + rs.getString(3) + ", "
                + rs.getString(4) + ", transaction open " + rs.getLong(5) + " s) on " + rs.getString(6));
      }
    } catch (SQLException e) {
      return "not known (" + Databases.firstLine(e.getMessage()) + ")";
    }
    return holders.isEmpty() ? "none now" : String.join("; ", holders);
  }

  static Optional<String> state(Connection c, SyncSession s, String key) throws SQLException {
    try (var ps = c.prepareStatement("SELECT v FROM " + s.schema() + ".state WHERE k = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  static void putState(Connection c, SyncSession s, String key, String value) throws SQLException {
    try (var ps =
        c.prepareStatement(
            "INSERT INTO " + s.schema() + ".state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")) {
      ps.setString(1, key);
      ps.setString(2, value);
      ps.executeUpdate();
    }
  }

  /**
   * Why {@code user} could not install (and later remove) the capture, or empty: it needs CREATE
   * on the database for Ferry's schema, and to own every table (CREATE TRIGGER needs the TRIGGER
   * privilege, DROP TRIGGER the owner).
   */
  static List<String> cannotInstall(Connection c, String user) throws SQLException {
    List<String> reasons = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT has_database_privilege(current_database(), 'CREATE'),"
                    + " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        reasons.add("the role " + user + " may not create the capture's schema (it needs CREATE on the database)");
      }
      if (rs.getBoolean(2)) {
        return reasons;
      }
    }
    List<String> notOwned = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND " + Catalog.USER_RELATION_FILTER
                    + " AND NOT pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY 1")) {
      while (rs.next()) {
        notOwned.add(rs.getString(1));
      }
    }
    if (!notOwned.isEmpty()) {
      reasons.add(
          "tables the role " + user + " does not own, so it could not install and remove their capture triggers: "
              + (notOwned.size() <= 20 ? String.join(", ", notOwned) : String.join(", ", notOwned.subList(0, 20)) + " and "
                  + (notOwned.size() - 20) + " more")
              + " (the trigger method needs the owner of every table)");
    }
    return reasons;
  }

  /** Tables with rows but no primary key: the trigger method cannot name their rows. */
  static List<String> tablesWithoutKey(Connection c, Collection<CapturedTable> keyed) throws SQLException {
    List<String> missing = new ArrayList<>();
    java.util.Set<Catalog.Table> withKey = new java.util.HashSet<>();
    keyed.forEach(t -> withKey.add(t.table()));
    for (Catalog.Table t : Catalog.tablesWithRows(c)) {
      if (!withKey.contains(t)) {
        missing.add(t.display());
      }
    }
    return missing;
  }
}

package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write fence of a frozen source: what makes "frozen" hold against a client that turns
 * {@code default_transaction_read_only} off for itself.
 *
 * <ul>
 *   <li>On every table of the app (ordinary, partitioned, partitions; Ferry's own schemas, the
 *       system's and extensions' tables excepted): a statement-level {@code BEFORE INSERT OR
 *       UPDATE OR DELETE OR TRUNCATE} trigger {@value #TRIGGER}, enabled {@code ALWAYS} (so {@code
 *       session_replication_role = replica} does not skip it), that raises SQLSTATE 25006 unless
 *       the session carries this run's key ({@link FenceKeys}): {@code
 *       sha256(current_setting('ferry.fence_key'))} must equal the digest written into the
 *       function. INSERT, UPDATE, DELETE, TRUNCATE, COPY FROM, MERGE, INSERT … ON CONFLICT,
 *       writable CTEs, prepared statements and INSTEAD OF triggers of views all fire it.
 *   <li>Where the credential is a superuser: an event trigger {@value #EVENT_TRIGGER} on {@code
 *       ddl_command_start}, also {@code ALWAYS}, refusing DDL the same way. Elsewhere (Heroku's
 *       credential is no superuser) DDL is not refused: the drain and the final verify's schema
 *       comparison name what it changed.
 * </ul>
 *
 * Everything lives in the schema {@value #SCHEMA} (the trigger functions, and {@code run_id()}
 * and {@code key_digest()} saying whose fence it is), so that removing it leaves nothing: the
 * triggers are dropped table by table, then the schema. Installing is incremental and idempotent
 * (functions replaced, triggers added where missing) and happens in the caller's transaction: the
 * freeze commits it, the rehearsal's probe rolls it back.
 *
 * <p>Not fenced (no trigger can see them): sequences ({@code nextval}, {@code setval}), large
 * objects ({@code lo_*}), foreign tables, a superuser who drops the fence, and, without the event
 * trigger, the owner's DDL (including dropping or disabling the fence's triggers).
 */
public final class WriteFence {
  private static final Logger log = LoggerFactory.getLogger(WriteFence.class);
  public static final String SCHEMA = "ferry_fence";
  public static final String TRIGGER = "ferry_write_fence";
  public static final String EVENT_TRIGGER = "ferry_write_fence_ddl";
  static final String KEY_SETTING = "ferry.fence_key";
  /** How long the install waits for each table's lock before it gives up (and the freeze retries). */
  static final String LOCK_TIMEOUT = "10s";
  /** Tables per multi-statement round trip when installing. */
  private static final int TABLES_PER_ROUND_TRIP = 200;

  private static final String APP_TABLES =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND"
          + Catalog.USER_RELATION_FILTER;

  private WriteFence() {}

  /** A fence found on a database: whose, and how far it reaches. */
  public record Installed(String runId, String keyDigest, boolean refusesDdl, int tables) {}

  /** The fence on this connection's database, if there is one (also a half-removed one). */
  public static Optional<Installed> inspect(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '" + SCHEMA + "'),"
                    + " EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '" + EVENT_TRIGGER + "'),"
                    + " (SELECT count(*) FROM pg_trigger WHERE tgname = '" + TRIGGER + "')")) {
      rs.next();
      boolean schema = rs.getBoolean(1);
      boolean ddl = rs.getBoolean(2);
      int tables = rs.getInt(3);
      if (!schema && !ddl && tables == 0) {
        return Optional.empty();
      }
      String runId = null;
      String digest = null;
      // From the catalog, not by calling them: a role without USAGE on the schema reads it too.
      try (ResultSet meta =
          s.executeQuery(
              "SELECT p.proname, substring(p.prosrc FROM $$'(.*)'$$) FROM pg_proc p"
                  + " JOIN pg_namespace n ON n.oid = p.pronamespace"
                  + " WHERE n.nspname = '" + SCHEMA + "' AND p.proname IN ('run_id', 'key_digest')")) {
        while (meta.next()) {
          if (meta.getString(1).equals("run_id")) {
            runId = meta.getString(2);
          } else {
            digest = meta.getString(2);
          }
        }
      }
      return Optional.of(new Installed(runId, digest, ddl, tables));
    }
  }

  /**
   * Sets this run's key in the session when the fence on its database is this run's (or was
   * installed with a key this deployment had before a rotation): its writes and DDL then pass.
   * The key travels as a bind parameter, so it is in no query text. Returns whether it did.
   */
  static boolean carry(Connection c, FenceKeys keys, String runId) throws SQLException {
    Optional<Installed> fence = inspect(c);
    if (fence.isEmpty() || fence.get().keyDigest() == null) {
      return false;
    }
    for (String key : keys.candidates(runId)) {
      if (FenceKeys.digest(key).equals(fence.get().keyDigest())) {
        setKey(c, key);
        return true;
      }
    }
    log.warn("the write fence was installed by run {}, not with this run's key ({}): this session does not pass it",
        fence.get().runId(), runLabel(runId));
    return false;
  }

  private static void setKey(Connection c, String key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('" + KEY_SETTING + "', ?, false)")) {
      ps.setString(1, key);
      ps.executeQuery().close();
    }
  }

  /**
   * What installing the fence needs and what it will meet, read from the catalogs: whatever a
   * freeze would refuse, preflight refuses first with the same words.
   *
   * @param notOwned the app's tables the credential does not own ({@code CREATE TRIGGER} and
   *     {@code ENABLE ALWAYS TRIGGER} need the owner), at most {@link #NAMED} named
   * @param tables the app's tables the fence goes on
   * @param lockCapacity how many locks the server's shared lock table holds ({@code
   *     max_locks_per_transaction × (max_connections + max_prepared_transactions)}): installing
   *     locks every table in one transaction
   */
  public record Readiness(
      String role,
      boolean superuser,
      boolean ownsDatabase,
      boolean mayCreateSchema,
      List<String> notOwned,
      int notOwnedTotal,
      int tables,
      long lockCapacity,
      Optional<Installed> installed) {

    /** Why the fence cannot be installed for {@code runId}, or empty. */
    public List<String> refusals(String runId) {
      List<String> reasons = new ArrayList<>();
      if (!ownsDatabase) {
        reasons.add("the runbook's credential must own the database (" + role + " does not): the freeze sets"
            + " default_transaction_read_only on it");
      }
      if (notOwnedTotal > 0) {
        reasons.add("the write fence needs the owner of every table of the app; " + role + " does not own "
            + notOwnedTotal + " table(s): " + String.join(", ", notOwned)
            + (notOwnedTotal > notOwned.size() ? ", …" : "") + " (ALTER TABLE … OWNER TO " + role + ")");
      }
      if (ownsDatabase && !mayCreateSchema) {
        reasons.add(role + " may not create the fence's schema " + SCHEMA + " (GRANT CREATE ON DATABASE)");
      }
      if (tables > lockCapacity) {
        reasons.add("the fence locks all " + tables + " tables in one transaction, more than the server's lock table"
            + " holds (" + lockCapacity + " = max_locks_per_transaction × (max_connections + max_prepared_transactions));"
            + " raise max_locks_per_transaction");
      }
      installed.filter(f -> f.runId() == null || !f.runId().equals(runLabel(runId))).ifPresent(f -> reasons.add(
          "the source carries the write fence of " + (f.runId() == null ? "an unknown run" : "run " + f.runId())
              + " (an earlier migration froze it and it was never unfrozen); once that run has ended, remove it:"
              + " DROP EVENT TRIGGER IF EXISTS " + EVENT_TRIGGER + "; DROP SCHEMA " + SCHEMA + " CASCADE;"
              + " ALTER DATABASE … RESET default_transaction_read_only"));
      return reasons;
    }
  }

  /** Tables named in a refusal at most. */
  static final int NAMED = 20;

  public static Readiness readiness(Connection c) throws SQLException {
    String role;
    boolean superuser;
    boolean ownsDatabase;
    boolean mayCreate;
    long capacity;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
                    + " pg_has_role(current_user, d.datdba, 'USAGE'),"
                    + " has_database_privilege(current_database(), 'CREATE'),"
                    + " current_setting('max_locks_per_transaction')::bigint"
                    + "   * (current_setting('max_connections')::bigint + current_setting('max_prepared_transactions')::bigint)"
                    + " FROM pg_database d WHERE d.datname = current_database()")) {
      rs.next();
      role = rs.getString(1);
      superuser = rs.getBoolean(2);
      ownsDatabase = rs.getBoolean(3);
      mayCreate = rs.getBoolean(4);
      capacity = rs.getLong(5);
    }
    List<String> notOwned = new ArrayList<>();
    int notOwnedTotal = 0;
    int tables = 0;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_has_role(current_user, c.relowner, 'USAGE')"
                    + APP_TABLES + " ORDER BY 1")) {
      while (rs.next()) {
        tables++;
        if (!rs.getBoolean(2)) {
          if (++notOwnedTotal <= NAMED) {
            notOwned.add(rs.getString(1));
          }
        }
      }
    }
    return new Readiness(role, superuser, ownsDatabase, mayCreate, notOwned, notOwnedTotal, tables, capacity, inspect(c));
  }

  /**
   * Installs or completes the fence in the caller's transaction (which should set a lock
   * timeout): replaces its functions with ones carrying {@code keyDigest}, adds the trigger to
   * every app table that lacks it, and, when {@code refuseDdl} (a superuser), the event trigger:
   * one already there is dropped first and made again, so that a retry does not depend on still
   * holding the key the earlier attempt made it with. Returns the tables fenced.
   */
  static int install(Connection c, String runId, String keyDigest, boolean refuseDdl) throws SQLException {
    String run = runLabel(runId);
    if (!keyDigest.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("not a SHA-256 digest");
    }
    String passes =
        "sha256(convert_to(coalesce(current_setting('" + KEY_SETTING + "', true), ''), 'UTF8')) = '\\x" + keyDigest + "'::bytea";
    String settings = " SET search_path = pg_catalog, pg_temp";
    try (Statement s = c.createStatement()) {
      if (refuseDdl) {
        // Made again below, in this transaction: no other session sees it missing.
        s.execute("DROP EVENT TRIGGER IF EXISTS " + EVENT_TRIGGER);
      }
      s.execute(
          "CREATE SCHEMA IF NOT EXISTS " + SCHEMA + ";"
              + " COMMENT ON SCHEMA " + SCHEMA + " IS 'Ferry: the write fence of migration run " + run
              + " (the source is frozen); removed when the run unfreezes it';"
              + " CREATE OR REPLACE FUNCTION " + SCHEMA + ".run_id() RETURNS text LANGUAGE sql IMMUTABLE AS $f$ SELECT '" + run + "'::text $f$;"
              + " CREATE OR REPLACE FUNCTION " + SCHEMA + ".key_digest() RETURNS text LANGUAGE sql IMMUTABLE AS $f$ SELECT '" + keyDigest + "'::text $f$;"
              + " CREATE OR REPLACE FUNCTION " + SCHEMA + ".refuse_write() RETURNS trigger LANGUAGE plpgsql" + settings
              + " AS $f$ BEGIN IF " + passes + " THEN RETURN NULL; END IF;"
              + " RAISE EXCEPTION USING ERRCODE = '25006', MESSAGE = format('%I.%I is frozen for migration run %s: Ferry''s"
              + " write fence refuses every write until the run ends or rolls back', TG_TABLE_SCHEMA, TG_TABLE_NAME, '" + run + "');"
              + " END $f$");
      List<String> missing = new ArrayList<>();
      List<String> notAlways = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),"
                  + " (SELECT t.tgenabled FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = '" + TRIGGER + "')"
                  + APP_TABLES + " ORDER BY 1")) {
        while (rs.next()) {
          String table = rs.getString(1);
          String enabled = rs.getString(2);
          seen.add(table);
          if (enabled == null) {
            missing.add(table);
          } else if (!enabled.equals("A")) {
            notAlways.add(table);
          }
        }
      }
      StringBuilder batch = new StringBuilder();
      int inBatch = 0;
      for (String table : missing) {
        batch.append("CREATE TRIGGER ").append(TRIGGER)
            .append(" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ").append(table)
            .append(" FOR EACH STATEMENT EXECUTE FUNCTION ").append(SCHEMA).append(".refuse_write();");
        notAlways.add(table);
        if (++inBatch == TABLES_PER_ROUND_TRIP) {
          s.execute(batch.toString());
          batch.setLength(0);
          inBatch = 0;
        }
      }
      if (inBatch > 0) {
        s.execute(batch.toString());
        batch.setLength(0);
        inBatch = 0;
      }
      for (String table : notAlways) {
        batch.append("ALTER TABLE ").append(table).append(" ENABLE ALWAYS TRIGGER ").append(TRIGGER).append(";");
        if (++inBatch == TABLES_PER_ROUND_TRIP) {
          s.execute(batch.toString());
          batch.setLength(0);
          inBatch = 0;
        }
      }
      if (inBatch > 0) {
        s.execute(batch.toString());
      }
      if (refuseDdl) {
        s.execute(
            "CREATE OR REPLACE FUNCTION " + SCHEMA + ".refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql" + settings
                + " AS $f$ BEGIN IF " + passes + " THEN RETURN; END IF;"
                + " RAISE EXCEPTION USING ERRCODE = '25006', MESSAGE = format('%s refused: the database is frozen for"
                + " migration run %s (Ferry''s write fence)', TG_TAG, '" + run + "');"
                + " END $f$;"
                + " CREATE EVENT TRIGGER " + EVENT_TRIGGER + " ON ddl_command_start EXECUTE FUNCTION " + SCHEMA + ".refuse_ddl();"
                + " ALTER EVENT TRIGGER " + EVENT_TRIGGER + " ENABLE ALWAYS");
      }
      return seen.size();
    }
  }

  /**
   * Removes the fence: the event trigger, then the tables' triggers a batch at a time (short
   * locks, rather than one lock on every table at once), then the schema. Removing what is gone succeeds; so
   * does a retry after a crash midway. The session should carry the key ({@link #carry}) when
   * an event trigger may be there and the credential is no superuser.
   */
  static void remove(Connection c) throws SQLException {
    List<String> triggers = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname)"
                    + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                    + " WHERE t.tgname = '" + TRIGGER + "' ORDER BY 1")) {
      while (rs.next()) {
        triggers.add(rs.getString(1));
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute("SET lock_timeout = '" + LOCK_TIMEOUT + "'");
      s.execute("DROP EVENT TRIGGER IF EXISTS " + EVENT_TRIGGER);
      // A few hundred per round trip (each batch one transaction): an unfreeze is the end of
      // the app's downtime when a run rolls back.
      StringBuilder batch = new StringBuilder();
      for (int i = 0; i < triggers.size(); i++) {
        batch.append("DROP TRIGGER IF EXISTS ").append(TRIGGER).append(" ON ").append(triggers.get(i)).append(";");
        if ((i + 1) % TABLES_PER_ROUND_TRIP == 0 || i == triggers.size() - 1) {
          s.execute(batch.toString());
          batch.setLength(0);
        }
      }
      s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
      s.execute("RESET lock_timeout");
    }
  }

  /**
   * Whether a line of pg_restore's table of contents is part of a fence (a dump taken while the
   * source was frozen holds the triggers and the event trigger; the target must get neither).
   */
  public static boolean isFenceEntry(String tocLine) {
    return (tocLine.contains(" TRIGGER ") && tocLine.contains(" " + TRIGGER + " "))
        || tocLine.contains(" EVENT TRIGGER - " + EVENT_TRIGGER + " ")
        || tocLine.contains(" SCHEMA - " + SCHEMA + " ");
  }

  /**
   * The run id as the fence writes it into SQL and messages: letters, digits and {@code . _ : -}
   * kept, anything else replaced (workflow ids may hold any character; these are written into
   * literals).
   */
  static String runLabel(String runId) {
    return runId.replaceAll("[^A-Za-z0-9._:-]", "_");
  }
}

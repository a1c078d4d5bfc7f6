package dev.ferry.activities.postgres;

import dev.ferry.activity.FreezeActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.FreezeResult;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes the source for the cutover (read-only by default, open sessions ended, the write fence
 * installed: {@link WriteFence}), and thaws it.
 */
public class FreezeActivitiesImpl implements FreezeActivities {
  private static final Logger log = LoggerFactory.getLogger(FreezeActivitiesImpl.class);
  private static final String APPLICATION_NAME = "ferry-freeze";

  private final Databases databases;

  public FreezeActivitiesImpl(Databases databases) {
    this.databases = databases;
  }

  @Override
  public FreezeResult freezeSource(String sourceUrlRef) {
    Endpoint source = databases.resolve(Databases.SOURCE, sourceUrlRef);
    String runId = Activity.getExecutionContext().getInfo().getWorkflowId();
    try (Connection c = databases.connectPastFence(source, APPLICATION_NAME, runId)) {
      WriteFence.Readiness ready = WriteFence.readiness(c);
      refuseUnless(source, ready, runId);
      alterDatabase(c, source, "SET default_transaction_read_only = on");
      // Sessions opened before the setting still write; end them (the app reconnects read-only).
      // Before the fence: one holding a write transaction open would hold its install up.
      // Ferry's own sessions (the sync's applier) stay.
      int ended = 0;
      List<String> left = new ArrayList<>();
      for (Session session : otherSessions(c)) {
        if (terminate(c, session.pid())) {
          ended++;
        } else {
          left.add(session.who());
        }
      }
      long began = System.nanoTime();
      int tables = installFence(c, source, runId, ready.superuser(), left);
      String fence = describe(tables, ready.superuser());
      log.info("froze {}: {} session(s) ended, {} left; fence on {} tables in {} ms{}", source.describe(), ended,
          left.size(), tables, (System.nanoTime() - began) / 1_000_000, ready.superuser() ? ", DDL refused" : "");
      return new FreezeResult(ended, left, fence);
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  @Override
  public void unfreezeSource(String sourceUrlRef) {
    thaw(sourceUrlRef, true);
  }

  @Override
  public void liftFence(String sourceUrlRef) {
    thaw(sourceUrlRef, false);
  }

  private void thaw(String sourceUrlRef, boolean writable) {
    Endpoint source = databases.resolve(Databases.SOURCE, sourceUrlRef);
    String runId = Activity.getExecutionContext().getInfo().getWorkflowId();
    try (Connection c = databases.connectPastFence(source, APPLICATION_NAME, runId)) {
      Optional<WriteFence.Installed> fence = WriteFence.inspect(c);
      if (fence.isPresent() && fence.get().runId() != null && !fence.get().runId().equals(WriteFence.runLabel(runId))) {
        // Not this run's freeze (it never got past the other's fence): that run undoes its own.
        log.warn("{} carries the write fence of run {}, not of {}: left as it is", source.describe(), fence.get().runId(), runId);
        return;
      }
      try {
        WriteFence.remove(c);
      } catch (SQLException e) {
        if ("42501".equals(e.getSQLState())) {
          throw ApplicationFailure.newNonRetryableFailure(
              source.describe() + ": cannot remove the write fence: " + e.getMessage() + "; a superuser must run DROP EVENT"
                  + " TRIGGER IF EXISTS " + WriteFence.EVENT_TRIGGER + "; DROP SCHEMA IF EXISTS " + WriteFence.SCHEMA + " CASCADE",
              Errors.FREEZE_REFUSED);
        }
        throw e;
      }
      if (writable) {
        alterDatabase(c, source, "RESET default_transaction_read_only");
      }
      log.info("{} {}", writable ? "unfroze" : "lifted the write fence of", source.describe());
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  /** Fails for good, before anything changes, when the fence cannot be installed. */
  static void refuseUnless(Endpoint source, WriteFence.Readiness ready, String runId) {
    List<String> reasons = ready.refusals(runId);
    if (!reasons.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          source.describe() + ": cannot freeze the source: " + String.join("; ", reasons), Errors.FREEZE_REFUSED);
    }
  }

  /** The fence, on every table or none, in one transaction. Returns the tables fenced. */
  private int installFence(Connection c, Endpoint source, String runId, boolean refuseDdl, List<String> left)
      throws SQLException {
    String digest = FenceKeys.digest(databases.fenceKeys().key(runId));
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL lock_timeout = '" + WriteFence.LOCK_TIMEOUT + "'");
      int tables = WriteFence.install(c, runId, digest, refuseDdl);
      c.commit();
      return tables;
    } catch (SQLException e) {
      c.rollback();
      throw lockFailure(source, e, left).orElse(e);
    } catch (RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** A lock the fence could not get in time, or a lock table too small, in words; retryable. */
  static Optional<SQLException> lockFailure(Endpoint source, SQLException e, List<String> left) {
    if ("55P03".equals(e.getSQLState())) {
      return Optional.of(new SQLException(
          "the write fence waited " + WriteFence.LOCK_TIMEOUT + " for a table lock: a transaction that wrote is still open"
              + (left.isEmpty() ? "" : " (sessions Ferry could not end: " + String.join(", ", left) + ")")
              + "; " + e.getMessage(), e.getSQLState(), e));
    }
    if ("53200".equals(e.getSQLState())) {
      return Optional.of(new SQLException(
          "the write fence locks every table in one transaction and the server's lock table is full: raise"
              + " max_locks_per_transaction; " + e.getMessage(), e.getSQLState(), e));
    }
    return Optional.empty();
  }

  /** How long the rehearsal's probe waits for a table lock: it must not hold the app's writes up for long. */
  static final String PROBE_LOCK_TIMEOUT = "2s";

  /**
   * What a freeze would do, done inside a transaction that is rolled back (the rehearsal's
   * freeze probe, on the production source): the same checks, the same {@code ALTER DATABASE},
   * the same fence installed on every table with a throwaway key, then a write ({@code DELETE
   * ... WHERE false}, which fires statement triggers and deletes nothing) and, where the fence
   * refuses DDL, a {@code CREATE TABLE}, each expected to be refused. Sessions are counted, not
   * ended. Nothing is committed: other sessions never see any of it, though their writes wait
   * for the table locks while it runs (as long as the freeze's install takes; a lock wait is cut
   * at {@value #PROBE_LOCK_TIMEOUT}).
   *
   * @return one line: whether a freeze would be allowed, what the fence did, the sessions it would end
   */
  public static String probe(Connection c, String runId) throws SQLException {
    WriteFence.Readiness ready = WriteFence.readiness(c);
    int sessions = otherSessions(c).size();
    boolean readOnly;
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('default_transaction_read_only') = 'on'")) {
      rs.next();
      readOnly = rs.getBoolean(1);
    }
    String tail = "; it would end " + sessions + " session(s)" + (readOnly ? "; the source is read-only already" : "");
    List<String> refusals = ready.refusals(runId);
    if (!refusals.isEmpty()) {
      return "a freeze would be REFUSED: " + String.join("; ", refusals) + tail;
    }
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("SET TRANSACTION READ WRITE");
      s.execute("SET LOCAL lock_timeout = '" + PROBE_LOCK_TIMEOUT + "'");
      long began = System.nanoTime();
      String database;
      try (ResultSet rs = s.executeQuery("SELECT quote_ident(current_database())")) {
        rs.next();
        database = rs.getString(1);
      }
      s.execute("ALTER DATABASE " + database + " SET default_transaction_read_only = on");
      int tables;
      try {
        tables = WriteFence.install(c, runId, FenceKeys.digest(FenceKeys.throwaway()), ready.superuser());
      } catch (SQLException e) {
        if ("55P03".equals(e.getSQLState())) {
          return "a freeze would be allowed, but the probe's fence waited more than " + PROBE_LOCK_TIMEOUT
              + " for a table lock (a transaction that wrote was open; the freeze ends such sessions first)" + tail;
        }
        throw e;
      }
      long millis = (System.nanoTime() - began) / 1_000_000;
      String write = tables == 0 ? "there was no table to test a write on"
          : trial(s, "a test write", "DELETE FROM ONLY " + firstTable(s) + " WHERE false");
      String ddl = !ready.superuser()
          ? "DDL would not be refused (an event trigger needs a superuser)"
          : trial(s, "a test CREATE TABLE", "CREATE TABLE " + WriteFence.SCHEMA + ".probe_ddl ()");
      return "a freeze would be allowed: the write fence went on " + tables + " table(s) in " + millis + " ms and "
          + write + "; " + ddl + tail;
    } finally {
      c.rollback();
      c.setAutoCommit(autoCommit);
    }
  }

  /** Runs a statement in a savepoint, undone after; says whether the fence refused it. */
  private static String trial(Statement s, String what, String sql) throws SQLException {
    s.execute("SAVEPOINT ferry_probe");
    try {
      s.execute(sql);
      return "did NOT refuse " + what;
    } catch (SQLException e) {
      if ("25006".equals(e.getSQLState()) && String.valueOf(e.getMessage()).contains("write fence")) {
        return "refused " + what;
      }
      // An app's own trigger fired first and raised: the fence was not reached.
      return "could not try " + what + " (" + e.getSQLState() + ")";
    } finally {
      s.execute("ROLLBACK TO SAVEPOINT ferry_probe");
    }
  }

  private static String firstTable(Statement s) throws SQLException {
    try (ResultSet rs =
        s.executeQuery(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname) FROM pg_trigger t"
                + " JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname = '" + WriteFence.TRIGGER + "' ORDER BY 1 LIMIT 1")) {
      rs.next();
      return rs.getString(1);
    }
  }

  static String describe(int tables, boolean refusesDdl) {
    return "write fence on " + tables + " table(s): INSERT, UPDATE, DELETE, TRUNCATE and COPY refused whatever a session"
        + " sets; " + (refusesDdl
            ? "DDL refused (event trigger)"
            : "DDL not refused (an event trigger needs a superuser): the drain and the final verify name a table it changed");
  }

  private static void alterDatabase(Connection c, Endpoint source, String change) throws SQLException {
    try (Statement s = c.createStatement()) {
      String database;
      try (ResultSet rs = s.executeQuery("SELECT quote_ident(current_database())")) {
        rs.next();
        database = rs.getString(1);
      }
      s.execute("ALTER DATABASE " + database + " " + change);
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        throw ApplicationFailure.newNonRetryableFailure(
            source.describe() + ": cannot make the database read-only: " + e.getMessage()
                + "; the runbook's credential must own the database",
            Errors.FREEZE_REFUSED);
      }
      throw e;
    }
  }

  private record Session(int pid, String who) {}

  /** Client sessions on this database other than this one and the sync's own. */
  private static List<Session> otherSessions(Connection c) throws SQLException {
    List<Session> sessions = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT pid, usename || '@' || coalesce(client_addr::text, 'local') FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    // Another role's session shows no backend_type to a non-superuser.
                    + " AND (backend_type = 'client backend' OR (backend_type IS NULL AND usename IS NOT NULL))"
                    // The sync's own sessions write only Ferry's change table and must outlive
                    // the freeze; any other session, whatever it calls itself, is ended (and one
                    // that calls itself ferry-sync-* is fenced like any other).
                    + " AND coalesce(application_name, '') NOT LIKE 'ferry-sync-%'")) {
      while (rs.next()) {
        sessions.add(new Session(rs.getInt(1), rs.getString(2)));
      }
    }
    return sessions;
  }

  /** Ends a session; false when this role may not (another role's or a superuser's session). */
  private static boolean terminate(Connection c, int pid) throws SQLException {
    try (var ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      ps.setInt(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        return false;
      }
      throw e;
    }
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.model.Errors;
import dev.ferry.model.rehearsal.ScratchDatabase;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the runbook's database references and opens JDBC connections, turning what the
 * server says into failures an operator can act on: a wrong password or a missing database is
 * final, a refused or dropped connection is retried.
 */
public class Databases {
  private static final Logger log = LoggerFactory.getLogger(Databases.class);
  public static final String SOURCE = "source";
  public static final String TARGET = "target";

  private final SecretResolver secrets;
  private final FenceKeys fenceKeys;

  /** With this process's own fence keys ({@link FenceKeys#ephemeral()}): tests, tools. */
  public Databases(SecretResolver secrets) {
    this(secrets, FenceKeys.ephemeral());
  }

  /** @param fenceKeys the deployment's keys to the write fence (see {@link WriteFence}) */
  public Databases(SecretResolver secrets, FenceKeys fenceKeys) {
    this.secrets = secrets;
    this.fenceKeys = fenceKeys;
  }

  FenceKeys fenceKeys() {
    return fenceKeys;
  }

  /**
   * Resolves a side's reference; a reference that is not a PostgreSQL URL is final. A rehearsal's
   * scratch reference ({@code scratch:ferry_rehearsal_<8 hex>@<target reference>}, see {@link
   * ScratchDatabase}) resolves to the target's server and credential with the scratch database's
   * name, and never to any other database.
   */
  public Endpoint resolve(String side, String reference) {
    ScratchDatabase scratch = null;
    if (ScratchDatabase.isReference(reference)) {
      scratch =
          ScratchDatabase.parse(reference)
              .orElseThrow(
                  () -> ApplicationFailure.newNonRetryableFailure(
                      side + ".databaseUrl: " + reference + " is not a scratch database reference"
                          + " (scratch:ferry_rehearsal_<8 hex>@<target reference>)",
                      Errors.SECRET_UNRESOLVED));
    }
    String resolves = scratch == null ? reference : scratch.targetUrlRef();
    String url = secrets.resolve(side + ".databaseUrl", resolves);
    PgUrl pg;
    try {
      pg = PgUrl.parse(url);
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          side + ".databaseUrl: the value of " + resolves + " " + e.getMessage(),
          Errors.SECRET_UNRESOLVED);
    }
    if (scratch != null) {
      if (pg.database().equals(scratch.name())) {
        // The production target itself carries a scratch name: a rehearsal must never write there.
        throw ApplicationFailure.newNonRetryableFailure(
            side + ".databaseUrl: " + resolves + " names " + scratch.name() + " itself; a rehearsal will not use it as scratch",
            Errors.SCRATCH_DATABASE_REFUSED);
      }
      pg = pg.withDatabase(scratch.name());
    }
    return new Endpoint(side, reference, pg);
  }

  /**
   * Opens a connection, with {@code application_name} set so Ferry can find its own sessions.
   */
  public Connection connect(Endpoint endpoint, String applicationName) {
    try {
      return DriverManager.getConnection(
          endpoint.url().jdbcUrl(), endpoint.url().jdbcProperties(applicationName));
    } catch (SQLException e) {
      throw failure(endpoint, e);
    }
  }

  /**
   * Opens a session of Ferry's that must write to a source the run froze (tear the sync down,
   * unfreeze): {@code default_transaction_read_only} off, and, when the source carries this
   * run's write fence, the run's key to it ({@link WriteFence#carry}), so its DDL and writes
   * pass. Nothing else should use it: every other session of Ferry's only reads a frozen source.
   *
   * @param runId the run that froze the source (the workflow id)
   */
  public Connection connectPastFence(Endpoint endpoint, String applicationName, String runId) {
    Connection c = connect(endpoint, applicationName);
    try {
      execute(c, "SET default_transaction_read_only = off");
      WriteFence.carry(c, fenceKeys, runId);
      return c;
    } catch (SQLException e) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // the failure below says what went wrong
      }
      throw failure(endpoint, e);
    }
  }

  /**
   * Ends every session of {@code applicationName} on the endpoint's database: the pg_dump or
   * pg_restore an earlier attempt started and a worker crash orphaned. Returns how many.
   */
  public int terminateSessions(Endpoint endpoint, String applicationName) {
    try (Connection c = connect(endpoint, "ferry-janitor");
        var ps =
            c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    + " WHERE application_name = ? AND datname = current_database()"
                    + " AND pid <> pg_backend_pid()")) {
      ps.setString(1, applicationName);
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw failure(endpoint, e);
    }
  }

  /** {@link #terminateSessions}, best effort: for clean-up after a failure, which must not mask it. */
  public void terminateSessionsQuietly(Endpoint endpoint, String applicationName) {
    try {
      terminateSessions(endpoint, applicationName);
    } catch (RuntimeException e) {
      log.warn("could not end the sessions of {} on {}: {}", applicationName, endpoint.describe(), e.getMessage());
    }
  }

  /** Maps a server error to a final or retryable failure naming the side. */
  public static ApplicationFailure failure(Endpoint endpoint, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String reason = firstLine(e.getMessage());
    if (state.startsWith("28")) {
      return ApplicationFailure.newNonRetryableFailure(
          endpoint.describe() + ": authentication failed: " + reason, Errors.DATABASE_AUTH_FAILED);
    }
    if (state.equals("3D000")) {
      return ApplicationFailure.newNonRetryableFailure(
          endpoint.describe() + ": " + reason, Errors.DATABASE_NOT_FOUND);
    }
    if (state.startsWith("08") || state.equals("57P01") || state.equals("57P03") || state.isEmpty()) {
      return ApplicationFailure.newFailure(
          endpoint.describe() + ": cannot connect: " + reason, Errors.DATABASE_UNREACHABLE);
    }
    return ApplicationFailure.newFailure(
        endpoint.describe() + ": " + reason + " (SQLSTATE " + state + ")", Errors.STEP_FAILED);
  }

  static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The first line of a server's message (its detail and hint follow on lines of their own). */
  public static String firstLine(String message) {
    if (message == null) {
      return "no reason given";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}

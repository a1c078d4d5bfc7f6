package dev.ferry.activities.rehearsal;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.RunComment;
import io.temporal.activity.Activity;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activity.RehearsalActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.rehearsal.ScratchDatabase;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rehearsal's scratch database on the target's server, and the freeze probe on the source.
 *
 * <p>Creating and dropping go through the server's {@code postgres} database (or {@code
 * template1} where that is missing), with the target's credential: the production target
 * database is never connected to. Only names matching {@link ScratchDatabase#NAME} are created
 * or dropped; the name is checked by that pattern before it is written into SQL.
 */
public class RehearsalActivitiesImpl implements RehearsalActivities {
  private static final Logger log = LoggerFactory.getLogger(RehearsalActivitiesImpl.class);
  static final String APPLICATION_NAME = "ferry-rehearsal";
  private static final String[] ADMIN_DATABASES = {"postgres", "template1"};

  private final Databases databases;

  public RehearsalActivitiesImpl(Databases databases) {
    this.databases = databases;
  }

  @Override
  public String createScratchDatabase(ScratchDatabase scratch) {
    String name = checked(scratch);
    Endpoint target = databases.resolve(Databases.TARGET, scratch.targetUrlRef());
    refuseTargetItself(target, name);
    try (Connection c = admin(target)) {
      if (exists(c, name)) {
        log.info("scratch database {} exists already (an earlier attempt): reused", name);
        return scratch.reference();
      }
      try (Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE \"" + name + "\"");
        // Names the rehearsal, so a sweep can drop it if the rehearsal ends without doing so.
        s.execute("COMMENT ON DATABASE \"" + name + "\" IS "
            + RunComment.literal(rehearsalId(), "a rehearsal's scratch database; dropped when it ends"));
      }
      log.info("created scratch database {} on {}", name, target.url().withDatabase(name));
      return scratch.reference();
    } catch (SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      if (state.equals("42501")) {
        throw ApplicationFailure.newNonRetryableFailure(
            target.describe() + ": the role " + target.url().user() + " may not create databases, which a rehearsal"
                + " needs for its scratch database: grant it CREATEDB (ALTER ROLE " + target.url().user() + " CREATEDB)",
            Errors.SCRATCH_DATABASE_REFUSED);
      }
      if (state.equals("42P04")) {
        return scratch.reference(); // created by a concurrent attempt of the same rehearsal
      }
      throw Databases.failure(target, e);
    }
  }

  @Override
  public void dropScratchDatabase(ScratchDatabase scratch) {
    String name = checked(scratch);
    Endpoint target = databases.resolve(Databases.TARGET, scratch.targetUrlRef());
    refuseTargetItself(target, name);
    try (Connection c = admin(target)) {
      if (!exists(c, name)) {
        return;
      }
      // Sessions still connected (a pg_restore an earlier attempt orphaned) would block the drop.
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()")) {
        ps.setString(1, name);
        ps.executeQuery().close();
      }
      boolean force = c.getMetaData().getDatabaseMajorVersion() >= 13;
      try (Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS \"" + name + "\"" + (force ? " WITH (FORCE)" : ""));
      }
      log.info("dropped scratch database {}", name);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
  }

  @Override
  public String probeFreeze(String sourceUrlRef) {
    Endpoint source = databases.resolve(Databases.SOURCE, sourceUrlRef);
    try (Connection c = databases.connect(source, APPLICATION_NAME)) {
      // The freeze's own statements, fence included, in a transaction that is rolled back.
      return FreezeActivitiesImpl.probe(c, Activity.getExecutionContext().getInfo().getWorkflowId());
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  /** The run calling, when called as an activity (it always is, but for a test's direct call). */
  private static String rehearsalId() {
    try {
      return Activity.getExecutionContext().getInfo().getWorkflowId();
    } catch (IllegalStateException notInAnActivity) {
      return null;
    }
  }

  private static String checked(ScratchDatabase scratch) {
    if (scratch == null || !ScratchDatabase.NAME.matcher(scratch.name()).matches()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "not a scratch database's name: only ferry_rehearsal_<8 hex> is created or dropped", Errors.SCRATCH_DATABASE_REFUSED);
    }
    return scratch.name();
  }

  private static void refuseTargetItself(Endpoint target, String name) {
    if (target.url().database().equals(name)) {
      throw ApplicationFailure.newNonRetryableFailure(
          target.describe() + " is itself named " + name + ": a rehearsal never creates or drops the target database",
          Errors.SCRATCH_DATABASE_REFUSED);
    }
  }

  /** A connection to the server's administrative database, never to the target database. */
  private Connection admin(Endpoint target) {
    ApplicationFailure last = null;
    for (String db : ADMIN_DATABASES) {
      Endpoint admin = new Endpoint(target.side(), target.reference(), target.url().withDatabase(db));
      try {
        return databases.connect(admin, APPLICATION_NAME);
      } catch (ApplicationFailure e) {
        if (!Errors.DATABASE_NOT_FOUND.equals(e.getType())) {
          throw e;
        }
        last = e;
      }
    }
    throw last;
  }

  private static boolean exists(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}

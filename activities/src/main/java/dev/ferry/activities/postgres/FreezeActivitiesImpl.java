package dev.ferry.activities.postgres;

import dev.ferry.activity.FreezeActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.FreezeResult;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Makes the source database read-only for the cutover, and writable again. */
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
    try (Connection c = databases.connect(source, APPLICATION_NAME)) {
      alterDatabase(c, source, "SET default_transaction_read_only = on");
      // Sessions opened before the setting still write; end them (the app reconnects read-only).
      // Ferry's own sessions (pg_dump, verification) stay: they only read.
      int ended = 0;
      List<String> left = new ArrayList<>();
      for (Session session : otherSessions(c)) {
        if (terminate(c, session.pid())) {
          ended++;
        } else {
          left.add(session.who());
        }
      }
      log.info("froze {}: {} session(s) ended, {} left", source.describe(), ended, left.size());
      return new FreezeResult(ended, left);
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  @Override
  public void unfreezeSource(String sourceUrlRef) {
    Endpoint source = databases.resolve(Databases.SOURCE, sourceUrlRef);
    try (Connection c = databases.connect(source, APPLICATION_NAME)) {
      alterDatabase(c, source, "RESET default_transaction_read_only");
      log.info("unfroze {}", source.describe());
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  private static void alterDatabase(Connection c, Endpoint source, String change) throws SQLException {
    try (Statement s = c.createStatement()) {
      // Once frozen, this session too starts read-only: unfreezing (or freezing again) must
      // still be able to alter the database.
      s.execute("SET default_transaction_read_only = off");
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
                    // the freeze; any other session, whatever it calls itself, is ended.
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

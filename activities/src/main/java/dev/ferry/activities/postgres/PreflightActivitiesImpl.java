package dev.ferry.activities.postgres;

import dev.ferry.activity.PreflightActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Checks, before the start gate, that the migration can run at all. Reads only. */
public class PreflightActivitiesImpl implements PreflightActivities {
  private static final String APPLICATION_NAME = "ferry-preflight";
  private static final int OBJECTS_NAMED = 10;

  private final Databases databases;
  private final PgTools tools;

  public PreflightActivitiesImpl(Databases databases, PgTools tools) {
    this.databases = databases;
    this.tools = tools;
  }

  @Override
  public PreflightReport auditDatabases(DatabasePair pair) {
    Endpoint source = databases.resolve(Databases.SOURCE, pair.sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, pair.targetUrlRef());
    DatabaseFacts sourceFacts = facts(source);
    DatabaseFacts targetFacts = facts(target);
    Catalog.UserObjects targetObjects = targetObjects(target);

    String dumpVersion = tools.version("pg_dump");
    tools.version("pg_restore");
    int sourceMajor = sourceFacts.serverVersionNum() / 10000;
    int targetMajor = targetFacts.serverVersionNum() / 10000;
    int dumpMajor = PgTools.major(dumpVersion);

    if (targetMajor < sourceMajor) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the target runs PostgreSQL "
              + targetFacts.serverVersion()
              + ", older than the source's "
              + sourceFacts.serverVersion()
              + ": a dump cannot be restored into an older server; upgrade the target",
          Errors.INCOMPATIBLE_VERSIONS);
    }
    if (dumpMajor < sourceMajor) {
      throw ApplicationFailure.newNonRetryableFailure(
          "this worker's "
              + dumpVersion
              + " cannot dump the source's PostgreSQL "
              + sourceFacts.serverVersion()
              + ": install postgresql-client-"
              + sourceMajor
              + " (or newer) on the worker, or point FERRY_PG_BIN at it",
          Errors.INCOMPATIBLE_VERSIONS);
    }
    if (!targetObjects.none()) {
      throw ApplicationFailure.newNonRetryableFailure(
          target.describe()
              + " already holds "
              + targetObjects.describe()
              + "; Ferry restores only into an empty database, so nothing there is overwritten",
          Errors.TARGET_NOT_EMPTY);
    }

    List<String> warnings = new ArrayList<>();
    if (dumpMajor > targetMajor) {
      warnings.add(
          dumpVersion
              + " is newer than the target's PostgreSQL "
              + targetFacts.serverVersion()
              + ": the restore may meet syntax the target does not know");
    }
    return new PreflightReport(sourceFacts, targetFacts, dumpVersion, warnings);
  }

  private Catalog.UserObjects targetObjects(Endpoint target) {
    try (Connection c = databases.connect(target, APPLICATION_NAME)) {
      // A claim of a restore under way counts: another run is writing there.
      return Catalog.userObjects(c, "", OBJECTS_NAMED);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
  }

  private DatabaseFacts facts(Endpoint endpoint) {
    try (Connection c = databases.connect(endpoint, APPLICATION_NAME)) {
      c.setReadOnly(true);
      String version;
      int versionNum;
      long size;
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT current_setting('server_version'), current_setting('server_version_num')::int,"
                      + " pg_database_size(current_database())")) {
        rs.next();
        version = rs.getString(1).split(" ")[0];
        versionNum = rs.getInt(2);
        size = rs.getLong(3);
      }
      List<Catalog.Table> tables = Catalog.allTables(c);
      return new DatabaseFacts(
          endpoint.url().toString(), version, versionNum, size, tables.size(), Catalog.sequenceCount(c));
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }
}

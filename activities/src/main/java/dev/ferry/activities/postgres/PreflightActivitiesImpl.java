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
import java.util.stream.Collectors;

/** Checks, before the start gate, that the migration can run at all. Reads only. */
public class PreflightActivitiesImpl implements PreflightActivities {
  private static final String APPLICATION_NAME = "ferry-preflight";
  private static final int TABLES_NAMED = 10;

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
    DatabaseFacts sourceFacts = facts(source, new ArrayList<>());
    List<String> targetTables = new ArrayList<>();
    DatabaseFacts targetFacts = facts(target, targetTables);

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
    if (!targetTables.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          target.describe()
              + " already holds "
              + targetFacts.tables()
              + " table(s) ("
              + String.join(", ", targetTables)
              + (targetFacts.tables() > targetTables.size() ? ", …" : "")
              + "); Ferry restores only into an empty database, so nothing there is overwritten",
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

  /** Connects and reads the facts; fills {@code tableNames} with up to ten table names. */
  private DatabaseFacts facts(Endpoint endpoint, List<String> tableNames) {
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
      tableNames.addAll(
          tables.stream().limit(TABLES_NAMED).map(Catalog.Table::display).collect(Collectors.toList()));
      return new DatabaseFacts(
          endpoint.url().toString(), version, versionNum, size, tables.size(), Catalog.sequenceCount(c));
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }
}

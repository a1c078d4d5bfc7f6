package dev.ferry.activities.postgres;

import dev.ferry.activity.PreflightActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.database.SourceAudit.ExtensionCheck;
import io.temporal.activity.Activity;
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
  /** Below this many free connection slots, preflight warns: pg_dump -j 2 alone takes 3. */
  private static final int MIN_FREE_CONNECTIONS = 5;

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
    // The copy ends by analyzing the target with it: missing, the run would fail after the copy.
    tools.version("vacuumdb");
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

    SourceAudit audit = audit(source, target);
    refuseMissingExtensions(audit, target);
    // Both strategies freeze the source: what the freeze would refuse is refused now, before
    // the start gate and before anything is copied.
    FenceAudit fence = fenceAudit(source);
    if (!fence.refusals().isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          source.describe() + ": the freeze would be refused: " + String.join("; ", fence.refusals()),
          Errors.FREEZE_REFUSED);
    }

    List<String> warnings = new ArrayList<>();
    warnings.addAll(warningsOf(audit));
    warnings.addAll(fence.warnings());
    String locks = lockTable(source).warning(sourceFacts.endpoint());
    if (locks != null) {
      warnings.add(locks);
    }
    if (sourceFacts.readOnly()) {
      warnings.add(
          "the source database is already read-only by default; the run will not make it writable"
              + " again when it unfreezes");
    }
    for (DatabaseFacts facts : List.of(sourceFacts, targetFacts)) {
      if (facts.freeConnections() < MIN_FREE_CONNECTIONS) {
        warnings.add(
            facts.endpoint() + " has " + facts.freeConnections() + " free connection slot(s); pg_dump -j N and"
                + " pg_restore -j N need N + 1, verification 2 per job: lower the runbook's jobs or end idle sessions");
      }
    }
    if (dumpMajor > targetMajor) {
      warnings.add(
          dumpVersion
              + " is newer than the target's PostgreSQL "
              + targetFacts.serverVersion()
              + ": the restore may meet syntax the target does not know");
    }
    return new PreflightReport(sourceFacts, targetFacts, dumpVersion, audit, warnings);
  }

  private SourceAudit audit(Endpoint source, Endpoint target) {
    try (Connection s = databases.connect(source, APPLICATION_NAME);
        Connection t = databases.connect(target, APPLICATION_NAME)) {
      s.setReadOnly(true);
      return SourceAuditor.audit(s, t);
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  private LockTable lockTable(Endpoint source) {
    try (Connection s = databases.connect(source, APPLICATION_NAME)) {
      s.setReadOnly(true);
      return LockTable.read(s);
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  private FenceAudit fenceAudit(Endpoint source) {
    try (Connection s = databases.connect(source, APPLICATION_NAME)) {
      s.setReadOnly(true);
      return FenceAudit.of(s, Activity.getExecutionContext().getInfo().getWorkflowId());
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    }
  }

  /** An extension the target cannot install, or has in another schema, breaks the restore. */
  private static void refuseMissingExtensions(SourceAudit audit, Endpoint target) {
    List<String> problems = new ArrayList<>();
    for (ExtensionCheck e : audit.extensions()) {
      if (!e.availableOnTarget()) {
        problems.add(e.name() + " " + e.version() + " is not available on the target server");
      } else if (e.targetSchema() != null && !e.targetSchema().equals(e.schema())) {
        problems.add(
            e.name() + " is installed in schema " + e.targetSchema() + " on the target but in " + e.schema()
                + " on the source, and the app's objects refer to " + e.schema() + ": on the target run"
                + " CREATE SCHEMA IF NOT EXISTS " + e.schema() + "; ALTER EXTENSION " + e.name() + " SET SCHEMA "
                + e.schema());
      }
    }
    if (!problems.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          target.describe() + ": " + String.join("; ", problems), Errors.EXTENSION_UNAVAILABLE);
    }
  }

  /** What the operator should weigh before approving. */
  private static List<String> warningsOf(SourceAudit audit) {
    List<String> warnings = new ArrayList<>();
    for (ExtensionCheck e : audit.extensions()) {
      if (e.schema().equals("heroku_ext")) {
        warnings.add(
            "extension " + e.name() + " lives in Heroku's heroku_ext schema; the restore creates that schema on"
                + " the target and installs it there, so the app's references keep working");
      }
      if (e.targetDefaultVersion() != null && !e.targetDefaultVersion().equals(e.version()) && e.targetSchema() == null) {
        warnings.add(
            "extension " + e.name() + " is " + e.version() + " on the source; the target installs "
                + e.targetDefaultVersion());
      }
    }
    if (!audit.tablesWithoutPrimaryKey().isEmpty()) {
      warnings.add(
          audit.tablesWithoutPrimaryKey().size() + " table(s) without a primary key ("
              + String.join(", ", audit.tablesWithoutPrimaryKey()) + "): verified as one whole-table checksum;"
              + " trigger sync cannot carry them and logical replication fails their UPDATE/DELETE");
    }
    // Large objects are only counted (audit.largeObjects()): the snapshot carries them, and both
    // sync methods bring them across at the drain.
    if (!audit.unloggedTables().isEmpty()) {
      warnings.add(
          "unlogged table(s) " + String.join(", ", audit.unloggedTables())
              + " are restored unlogged: the target empties them after a crash");
    }
    return warnings;
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
      boolean readOnly;
      int freeConnections;
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT current_setting('server_version'), current_setting('server_version_num')::int,"
                      + " pg_database_size(current_database()),"
                      + " coalesce((SELECT 'default_transaction_read_only=on' = ANY(setconfig) FROM pg_db_role_setting"
                      + "   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
                      + "   AND setrole = 0), false),"
                      + " current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
                      + "   - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')")) {
        rs.next();
        version = rs.getString(1).split(" ")[0];
        versionNum = rs.getInt(2);
        size = rs.getLong(3);
        readOnly = rs.getBoolean(4);
        freeConnections = rs.getInt(5);
      }
      List<Catalog.Table> tables = Catalog.allTables(c);
      return new DatabaseFacts(
                    endpoint.url().toString(),
          version,
          versionNum,
          size,
          tables.size(),
          Catalog.sequenceCount(c),
          readOnly,
          freeConnections);
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }
}

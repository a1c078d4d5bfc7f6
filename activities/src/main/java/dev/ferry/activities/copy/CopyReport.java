package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.DatabaseChecks;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.Activity;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the copy proved, as a verification report: the tables it checked as they landed, any table
 * of either side it did not copy, the schema, sequences and large objects compared as the
 * verification compares them. Bounded as every {@link VerificationReport} is (at most {@link
 * VerificationReport#MAX_LISTED} named of each kind, the rest counted in its totals), so it stays
 * small for a database of 10,000 tables; every comparison is kept where the verification keeps
 * its own ({@link VerificationDetails}: the run ledger, else the worker's log names what
 * differs), under the activity id {@code copy-<tag>} whichever copier computes it. Reads only
 * (the two databases; it writes to the ledger).
 */
final class CopyReport {
  static final String HOW = "each table checked as it landed (the verification's row checksums, the source's taken as its rows streamed)";
  private static final Logger log = LoggerFactory.getLogger(CopyReport.class);
  /** How a checked table that was dropped and created again since is reported. */
  static final String REPLACED = "replaced on the target after its check";

  private final Databases databases;
  private final VerificationDetails details;

  CopyReport(Databases databases, VerificationDetails details) {
    this.databases = databases;
    this.details = details;
  }

  VerificationReport report(CopyJob job) {
    String app = job.applicationName("report");
    try (Connection source = databases.connect(job.source(), app);
        Connection target = databases.connect(job.target(), app)) {
      source.setReadOnly(true);
      target.setReadOnly(true);
      DatabaseChecks.prepareSession(source);
      DatabaseChecks.prepareSession(target);
      List<TableComparison> tables = new ArrayList<>();
      Set<Catalog.Table> copied = new HashSet<>();
      try (Statement s = target.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT t.nspname, t.relname, t.state, coalesce(t.rows, 0), (SELECT coalesce(sum(c.rows), 0) FROM "
                      + job.schema() + ".chunks c WHERE c.table_id = t.id), (SELECT count(*) FROM " + job.schema()
                      + ".chunks c WHERE c.table_id = t.id), t.checked_oid IS NOT NULL AND t.checked_oid IS DISTINCT FROM "
                      + CopyBook.CURRENT_OID + " FROM " + job.schema() + ".tables t ORDER BY t.nspname, t.relname")) {
        while (rs.next()) {
          Catalog.Table table = new Catalog.Table(rs.getString(1), rs.getString(2));
          copied.add(table);
          if (!CopyBook.CHECKED.equals(rs.getString(3))) {
            tables.add(new TableComparison(table.display(), rs.getLong(5), -1, "not copied", 0, 0, List.of(), false));
          } else if (rs.getBoolean(7)) {
            // Dropped and created again since its check: what it holds now was never checked.
            log.error("copy {}: {} is not the table that was checked (dropped and created again since)", job.tag(), table.display());
            tables.add(new TableComparison(table.display(), rs.getLong(4), rowCount(target, table), REPLACED, 0, 0, List.of(), false));
          } else {
            tables.add(
                new TableComparison(
                    table.display(), rs.getLong(4), rs.getLong(4), rs.getInt(6) > 1 ? "primary key range" : "whole table",
                    rs.getInt(6), 0, List.of(), true));
          }
        }
      }
      for (Catalog.Table t : Catalog.tablesWithRows(source)) {
        if (!copied.contains(t)) {
          tables.add(TableComparison.oneSided(t.display(), rowCount(source, t), -1));
        }
      }
      for (Catalog.Table t : Catalog.tablesWithRows(target)) {
        if (!copied.contains(t)) {
          tables.add(TableComparison.oneSided(t.display(), -1, rowCount(target, t)));
        }
      }
      TableComparison largeObjects = DatabaseChecks.largeObjects(source, target);
      if (largeObjects != null) {
        tables.add(largeObjects);
      }
      List<SequenceComparison> sequences = DatabaseChecks.sequences(source, target);
      List<SchemaDifference> schema = DatabaseChecks.schema(source, target);
      return VerificationReport.of(tables, sequences, schema, HOW + "; " + record(job, tables, sequences, schema));
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
  }

  /** How many checked tables are no longer the table that was checked (their oid changed). */
  static int replacedSinceChecked(Connection book, CopyJob job) throws SQLException {
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM " + job.schema() + ".tables t WHERE t.state = '" + CopyBook.CHECKED + "'"
                    + " AND t.checked_oid IS NOT NULL AND t.checked_oid IS DISTINCT FROM " + CopyBook.CURRENT_OID)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Hands every comparison to {@link VerificationDetails}; returns where they are. A failure (the
   * ledger down) is logged and the report says the detail is incomplete, as the verification's does.
   */
  private String record(CopyJob job, List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema) {
    VerificationDetails.Verification v =
        new VerificationDetails.Verification(Activity.getExecutionContext().getInfo().getWorkflowId(), "copy-" + job.tag());
    int mismatches = VerificationReport.of(tables, sequences, schema).mismatches();
    try {
      details.begin(v);
      details.tables(v, tables);
      details.sequences(v, sequences);
      details.schema(v, schema);
      details.finish(v, mismatches);
      return details.where(v);
    } catch (RuntimeException e) {
      log.warn("copy {} of {}: could not record its comparisons ({}); the report goes on without", job.tag(), v.runId(), e.toString());
      return details.where(v) + " (incomplete: recording failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")";
    }
  }

  private static long rowCount(Connection c, Catalog.Table t) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM ONLY " + t.sql())) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

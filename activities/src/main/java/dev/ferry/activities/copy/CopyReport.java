package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.DatabaseChecks;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the copy proved, as a verification report: the tables it checked as they landed (counted,
 * not listed), any table of either side it did not copy, the schema, sequences and large objects
 * compared as the verification compares them. Lists only what differs, so the report does not
 * grow with the number of tables. Reads only.
 */
final class CopyReport {
  static final String HOW = "each streamed from the snapshot and hashed, then read back from the target and hashed alike";

  private final Databases databases;

  CopyReport(Databases databases) {
    this.databases = databases;
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
      int checked = 0;
      long rows = 0;
      try (Statement s = target.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT t.nspname, t.relname, t.state, coalesce(t.rows, 0), (SELECT coalesce(sum(c.rows), 0) FROM "
                      + job.schema() + ".chunks c WHERE c.table_id = t.id) FROM " + job.schema() + ".tables t")) {
        while (rs.next()) {
          Catalog.Table table = new Catalog.Table(rs.getString(1), rs.getString(2));
          copied.add(table);
          if (CopyBook.CHECKED.equals(rs.getString(3))) {
            checked++;
            rows += rs.getLong(4);
          } else {
            tables.add(new TableComparison(table.display(), rs.getLong(5), -1, "not copied", 0, 0, List.of(), false));
          }
        }
      }
      int chunks;
      try (Statement s = target.createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM " + job.schema() + ".chunks")) {
        rs.next();
        chunks = rs.getInt(1);
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
      List<SequenceComparison> differing = sequences.stream().filter(q -> !q.matches()).toList();
      List<SchemaDifference> schema = DatabaseChecks.schema(source, target);
      return VerificationReport.of(
          tables, differing, schema,
          new VerificationReport.Unlisted(checked, rows, chunks, sequences.size() - differing.size(), HOW));
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
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

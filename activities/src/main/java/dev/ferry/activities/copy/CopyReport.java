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
 * What the copy proved, as a verification report: the tables it checked as they landed, any table
 * of either side it did not copy, the schema, sequences and large objects compared as the
 * verification compares them. What differs is always listed; of what matched, the first {@link
 * #LISTED} tables and sequences by name are listed and the rest counted, so the report stays
 * small for a database of 10,000 tables. Reads only.
 */
final class CopyReport {
  static final String HOW = "each checked as it landed: the verification's row checksums, the source's taken as its rows streamed";
  /** Matching tables (and sequences) listed by name; more are counted. */
  static final int LISTED = 100;

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
      int chunks = 0;
      int listed = 0;
      try (Statement s = target.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT t.nspname, t.relname, t.state, coalesce(t.rows, 0), (SELECT coalesce(sum(c.rows), 0) FROM "
                      + job.schema() + ".chunks c WHERE c.table_id = t.id), (SELECT count(*) FROM " + job.schema()
                      + ".chunks c WHERE c.table_id = t.id) FROM " + job.schema() + ".tables t ORDER BY t.nspname, t.relname")) {
        while (rs.next()) {
          Catalog.Table table = new Catalog.Table(rs.getString(1), rs.getString(2));
          copied.add(table);
          if (!CopyBook.CHECKED.equals(rs.getString(3))) {
            tables.add(new TableComparison(table.display(), rs.getLong(5), -1, "not copied", 0, 0, List.of(), false));
          } else if (listed < LISTED) {
            listed++;
            tables.add(
                new TableComparison(
                    table.display(), rs.getLong(4), rs.getLong(4), rs.getInt(6) > 1 ? "primary key range" : "whole table",
                    rs.getInt(6), 0, List.of(), true));
          } else {
            checked++;
            rows += rs.getLong(4);
            chunks += rs.getInt(6);
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
      List<SequenceComparison> shown = new ArrayList<>(sequences.stream().filter(q -> !q.matches()).toList());
      sequences.stream().filter(SequenceComparison::matches).limit(LISTED).forEach(shown::add);
      List<SchemaDifference> schema = DatabaseChecks.schema(source, target);
      return VerificationReport.of(
          tables, shown, schema, new VerificationReport.Unlisted(checked, rows, chunks, sequences.size() - shown.size(), HOW));
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

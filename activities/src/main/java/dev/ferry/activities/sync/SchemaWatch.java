package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Detects a schema change on the source while the sync runs. Neither sync method carries DDL:
 * a column added on the source would never reach the target, a table dropped and re-created
 * would leave the capture behind. So setup records the app's schema, one line per table,
 * column, constraint and index, and every apply batch and the drain compare it again.
 */
final class SchemaWatch {
  private static final String RELATIONS =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" + Catalog.USER_RELATION_FILTER;

  /** The schema as lines, in a stable order. */
  private static final String DESCRIBE =
      "SELECT line FROM ("
          + " SELECT 'table ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS line"
          + RELATIONS + " AND c.relkind IN ('r', 'p')"
          + " UNION ALL SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.'"
          + "   || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)"
          + "   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
          + "   || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END"
          + RELATIONS.replace(" FROM pg_class c", " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid")
          + " AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
          + " UNION ALL SELECT 'constraint ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' '"
          + "   || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid)"
          + RELATIONS.replace(" FROM pg_class c", " FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid")
          + " AND c.relkind IN ('r', 'p')"
          + " UNION ALL SELECT 'index ' || pg_get_indexdef(i.indexrelid)"
          + RELATIONS.replace(" FROM pg_class c", " FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid")
          + " AND c.relkind IN ('r', 'p')"
          + ") s ORDER BY line COLLATE \"C\"";

  private SchemaWatch() {}

  /** The app's schema on this connection's database, as comparable lines. */
  static List<String> describe(Connection c) throws SQLException {
    List<String> lines = new ArrayList<>();
    try (Statement s = c.createStatement(); var rs = s.executeQuery(DESCRIBE)) {
      while (rs.next()) {
        lines.add(rs.getString(1));
      }
    }
    return lines;
  }

  /** What differs between the recorded schema and the current one, for people. */
  static List<String> changes(List<String> recorded, List<String> now) {
    Set<String> before = new LinkedHashSet<>(recorded);
    Set<String> after = new LinkedHashSet<>(now);
    List<String> changes = new ArrayList<>();
    for (String line : before) {
      if (!after.contains(line)) {
        changes.add("gone: " + line);
      }
    }
    for (String line : after) {
      if (!before.contains(line)) {
        changes.add("new: " + line);
      }
    }
    return changes;
  }

  /** Fails for good, naming what changed, when the source's schema is not the recorded one. */
  static void check(Endpoint source, List<String> recorded, List<String> now) {
    List<String> changes = changes(recorded, now);
    if (!changes.isEmpty()) {
      int shown = Math.min(changes.size(), 10);
      throw ApplicationFailure.newNonRetryableFailure(
          source.describe() + ": the schema changed while syncing (" + changes.size() + " change"
              + (changes.size() == 1 ? "" : "s") + ": " + String.join("; ", changes.subList(0, shown))
              + (shown < changes.size() ? "; …" : "")
              + "). Neither sync method carries schema changes: stop the run, apply the change to"
              + " the target too or after the migration, and start again.",
          Errors.SCHEMA_CHANGED);
    }
  }
}

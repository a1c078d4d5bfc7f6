package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Catalog queries Ferry asks of both databases. */
final class Catalog {
  /** A user table: schema and name as stored (unquoted). */
  record Table(String schema, String name) implements Comparable<Table> {
    /** For SQL: always quoted. */
    String sql() {
      return quote(schema) + "." + quote(name);
    }

    /** For people: quoted only where PostgreSQL needs it. */
    String display() {
      return displayName(schema) + "." + displayName(name);
    }

    @Override
    public int compareTo(Table o) {
      int c = schema.compareTo(o.schema);
      return c != 0 ? c : name.compareTo(o.name);
    }
  }

  private static final String USER_RELATIONS =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
          + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
          + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
          // Tables that belong to an extension are the extension's business, not the app's.
          + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
          + "   AND d.objid = c.oid AND d.deptype = 'e')";

  private Catalog() {}

  /** Tables that hold rows: ordinary tables and partitions (not partitioned parents). */
  static List<Table> tablesWithRows(Connection c) throws SQLException {
    return tables(c, "'r'");
  }

  /** Ordinary and partitioned tables, as an app's schema counts them. */
  static List<Table> allTables(Connection c) throws SQLException {
    return tables(c, "'r', 'p'");
  }

  static int sequenceCount(Connection c) throws SQLException {
    return (int) count(c, "SELECT count(*)" + USER_RELATIONS + " AND c.relkind = 'S'");
  }

  static long rowCount(Connection c, Table table) throws SQLException {
    return count(c, "SELECT count(*) FROM " + table.sql());
  }

  private static List<Table> tables(Connection c, String relkinds) throws SQLException {
    List<Table> tables = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT n.nspname, c.relname"
                    + USER_RELATIONS
                    + " AND c.relkind IN ("
                    + relkinds
                    + ") ORDER BY 1, 2")) {
      while (rs.next()) {
        tables.add(new Table(rs.getString(1), rs.getString(2)));
      }
    }
    return tables;
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  private static String displayName(String identifier) {
    return identifier.matches("[a-z_][a-z0-9_$]*") ? identifier : quote(identifier);
  }
}

package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Catalog queries Ferry asks of both databases. */
public final class Catalog {
  /** A user table: schema and name as stored (unquoted). */
  public record Table(String schema, String name) implements Comparable<Table> {
    /** For SQL: always quoted. */
    public String sql() {
      return quote(schema) + "." + quote(name);
    }

    /** For people: quoted only where PostgreSQL needs it. */
    public String display() {
      return displayName(schema) + "." + displayName(name);
    }

    @Override
    public int compareTo(Table o) {
      int c = schema.compareTo(o.schema);
      return c != 0 ? c : name.compareTo(o.name);
    }
  }

  /**
   * Relations ({@code c}, in namespace {@code n}) outside the system schemas and Ferry's own, not
   * owned by an extension: the app's.
   */
  public static final String USER_RELATION_FILTER =
      " n.nspname NOT IN ('pg_catalog', 'information_schema')"
          + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
          // Ferry's own bookkeeping (a restore's claim, sync's change tables, the write fence)
          // is not the app's; an app's own schema that merely starts with ferry_ is.
          + " AND n.nspname NOT LIKE 'ferry\\_sync\\_%' AND n.nspname <> 'ferry_restore_claim'"
          + " AND n.nspname <> '" + WriteFence.SCHEMA + "'"
          // A pre-verification's proofs and key capture (PreverifyActivitiesImpl).
          + " AND n.nspname NOT LIKE 'ferry\\_verify\\_%'"
          // The streaming copy's bookkeeping on the target.
          + " AND n.nspname NOT LIKE 'ferry\\_copy\\_%'"
          // Tables that belong to an extension are the extension's business, not the app's.
          + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
          + "   AND d.objid = c.oid AND d.deptype = 'e')";

  private static final String USER_RELATIONS =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" + USER_RELATION_FILTER;

  private Catalog() {}

  /** Tables that hold rows: ordinary tables and partitions (not partitioned parents). */
  public static List<Table> tablesWithRows(Connection c) throws SQLException {
    return tables(c, "'r'");
  }

  /** Ordinary and partitioned tables, as an app's schema counts them. */
  public static List<Table> allTables(Connection c) throws SQLException {
    return tables(c, "'r', 'p'");
  }

  /**
   * What a database holds beyond an empty one: schemas other than {@code public}, relations
   * (tables, views, sequences, standalone composite types…), enums, domains, ranges and
   * functions, outside the system schemas and not owned by an extension. Up to {@code limit}
   * descriptions such as {@code table public.orders}, and the total.
   */
  static UserObjects userObjects(Connection c, String ignoredSchema, int limit) throws SQLException {
    String notExtensionMember =
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '%s'::regclass"
            + " AND d.objid = %s.oid AND d.deptype = 'e')";
    String userSchema =
        " n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"
            + " AND n.nspname <> ?";
    String sql =
        "SELECT what FROM ("
            + " SELECT 1 AS o, 'schema ' || quote_ident(n.nspname) AS what FROM pg_namespace n WHERE"
            + userSchema.formatted()
            + " AND n.nspname <> 'public'"
            + notExtensionMember.formatted("pg_namespace", "n")
            + " UNION ALL SELECT 2, CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'"
            + "   WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'"
            + "   WHEN 'f' THEN 'foreign table' ELSE 'type' END"
            + "   || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
            + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND"
            + userSchema.formatted()
            + notExtensionMember.formatted("pg_class", "c")
            + " UNION ALL SELECT 3, 'type ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname)"
            + " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            + " WHERE t.typtype IN ('e', 'd', 'r') AND"
            + userSchema.formatted()
            + notExtensionMember.formatted("pg_type", "t")
            + " UNION ALL SELECT 4, 'function ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)"
            + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE"
            + userSchema.formatted()
            + notExtensionMember.formatted("pg_proc", "p")
            + ") objects ORDER BY o, what";
    List<String> named = new ArrayList<>();
    int total = 0;
    try (var ps = c.prepareStatement(sql)) {
      for (int i = 1; i <= 4; i++) {
        ps.setString(i, ignoredSchema);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          total++;
          if (named.size() < limit) {
            named.add(rs.getString(1));
          }
        }
      }
    }
    return new UserObjects(named, total);
  }

  /** Some of a database's own objects, by description, and how many there are in all. */
  record UserObjects(List<String> named, int total) {
    boolean none() {
      return total == 0;
    }

    String describe() {
      return total + " object(s): " + String.join(", ", named) + (total > named.size() ? ", …" : "");
    }
  }

  /** One primary-key column: its name and its type as {@code format_type} spells it. */
  record KeyColumn(String name, String type) {
    boolean isInteger() {
      return type.equals("bigint") || type.equals("integer") || type.equals("smallint");
    }
  }

  /** Every user table's primary-key columns, in key order; tables without one are absent. */
  static Map<Table, List<KeyColumn>> primaryKeys(Connection c) throws SQLException {
    Map<Table, List<KeyColumn>> keys = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
                    + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
                    + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                    + " WHERE c.relkind IN ('r', 'p') AND"
                    + USER_RELATION_FILTER
                    + " ORDER BY 1, 2, k.ord")) {
      while (rs.next()) {
        keys.computeIfAbsent(new Table(rs.getString(1), rs.getString(2)), t -> new ArrayList<>())
            .add(new KeyColumn(rs.getString(3), rs.getString(4)));
      }
    }
    return keys;
  }

  /** The planner's row estimate of each table ({@code reltuples}; -1 or 0 when never analysed). */
  static Map<Table, Long> rowEstimates(Connection c) throws SQLException {
    Map<Table, Long> estimates = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT n.nspname, c.relname, c.reltuples::bigint" + USER_RELATIONS + " AND c.relkind = 'r'")) {
      while (rs.next()) {
        estimates.put(new Table(rs.getString(1), rs.getString(2)), rs.getLong(3));
      }
    }
    return estimates;
  }

  static int sequenceCount(Connection c) throws SQLException {
    return (int) count(c, "SELECT count(*)" + USER_RELATIONS + " AND c.relkind = 'S'");
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

  /** The first column of a one-row query, as a number. */
  static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The first column of every row a query returns, as text, in its order. */
  public static List<String> strings(Connection c, String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }

  /** The server's version as a number ({@code 150004} for 15.4). */
  public static int serverVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  public static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  public static String displayName(String identifier) {
    return identifier.matches("[a-z_][a-z0-9_$]*") ? identifier : quote(identifier);
  }
}

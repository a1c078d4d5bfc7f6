package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A table the trigger method keeps in sync: where it is, its primary key and the columns an
 * insert writes (generated columns are computed by the target itself).
 *
 * @param oid the source's oid of the table, as the change table records it ({@code TG_RELID})
 * @param keyColumns the primary key's columns, in the key's order
 * @param keyTypes their types as {@code format_type} writes them, to cast the captured text back
 */
record CapturedTable(long oid, Catalog.Table table, List<String> keyColumns, List<String> keyTypes, List<String> columns) {
  private static final String KEYS =
      "SELECT c.oid, n.nspname, c.relname,"
          + " array_agg(a.attname ORDER BY k.ord), array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord)"
          + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
          + " JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
          + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
          + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
          + " WHERE c.relkind = 'r' AND " + Catalog.USER_RELATION_FILTER
          + " GROUP BY c.oid, n.nspname, c.relname";

  private static final String COLUMNS =
      "SELECT attname FROM pg_attribute WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped"
          + " AND attgenerated = '' ORDER BY attnum";

  /** Every table that holds rows and has a primary key, by oid. */
  static Map<Long, CapturedTable> read(Connection c) throws SQLException {
    Map<Long, CapturedTable> tables = readKeys(c);
    try (var ps = c.prepareStatement(COLUMNS)) {
      for (Map.Entry<Long, CapturedTable> e : tables.entrySet()) {
        ps.setLong(1, e.getKey());
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            columns.add(rs.getString(1));
          }
        }
        CapturedTable t = e.getValue();
        e.setValue(new CapturedTable(t.oid, t.table, t.keyColumns, t.keyTypes, columns));
      }
    }
    return tables;
  }

  /** As {@link #read}, without the columns (one query, whatever the number of tables). */
  static Map<Long, CapturedTable> readKeys(Connection c) throws SQLException {
    Map<Long, CapturedTable> tables = new LinkedHashMap<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(KEYS)) {
      while (rs.next()) {
        long oid = rs.getLong(1);
        List<String> keys = Arrays.asList((String[]) rs.getArray(4).getArray());
        List<String> types = Arrays.asList((String[]) rs.getArray(5).getArray());
        tables.put(oid, new CapturedTable(oid, new Catalog.Table(rs.getString(2), rs.getString(3)), keys, types, List.of()));
      }
    }
    return tables;
  }

  /** {@code ARRAY["a"::text, "b"::text]} over {@code NEW} or {@code OLD}. */
  String keyArray(String row) {
    return keyColumns.stream()
        .map(k -> row + "." + Catalog.quote(k) + "::text")
        .collect(Collectors.joining(", ", "ARRAY[", "]"));
  }

  /** {@code ("a", "b")}. */
  String keyTuple(String alias) {
    return keyColumns.stream().map(k -> alias + Catalog.quote(k)).collect(Collectors.joining(", ", "(", ")"));
  }

  /**
   * The key tuples of a JSON array of captured keys ({@code [["1","x"], …]}), cast back to the
   * key's types: {@code SELECT (e->>0)::bigint, (e->>1)::text FROM jsonb_array_elements(?::jsonb) e}.
   */
  String keysFromJson() {
    List<String> casts = new ArrayList<>();
    for (int i = 0; i < keyColumns.size(); i++) {
      casts.add("(e->>" + i + ")::" + keyTypes.get(i));
    }
    return "SELECT " + String.join(", ", casts) + " FROM jsonb_array_elements(?::jsonb) e";
  }

  String columnList() {
    return columns.stream().map(Catalog::quote).collect(Collectors.joining(", "));
  }
}

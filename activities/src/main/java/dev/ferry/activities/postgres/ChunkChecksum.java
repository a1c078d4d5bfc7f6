package dev.ferry.activities.postgres;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of chunked verification, the same on both sides: a chunk is the rows of a table whose
 * primary key lies in {@code (lower, upper]} (either end open), and its checksum is the row
 * count plus the sum of a 64-bit hash of each row's text. The sum does not depend on row order,
 * so neither side sorts; it changes with any changed, missing, extra or duplicated row.
 */
final class ChunkChecksum {
  /** What one side holds in one chunk. */
  record Sum(long rows, BigDecimal hash) {}

  /** Rows per chunk: a chunk is one query on each side and one checkpoint. */
  static final int CHUNK_ROWS = 50_000;

  /**
   * 64 bits of each row's text: the hash PostgreSQL's hash partitioning uses, so it is stable
   * across major versions, and as fast as reading the row ({@code md5} made
   * verification three times slower than a plain scan; see bench/README.md). {@code sum} over
   * {@code bigint} is exact ({@code numeric}). It guards against copies that went wrong, not
   * against someone forging rows to collide.
   */
  private static final String ROW_HASH = "hashtextextended(ROW(ferry_row.*)::text, 0)";

  private ChunkChecksum() {}

  /**
   * Makes row text the same on both sides whatever the servers' defaults: time zone, date,
   * interval, float and bytea output.
   */
  static void prepareSession(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
              + " SET extra_float_digits = 1; SET bytea_output = 'hex'; SET lc_monetary = 'C'");
    }
  }

  /** The chunk's checksum. {@code key} empty means the whole table (no primary key). */
  static Sum sum(
      Connection c, Catalog.Table table, List<Catalog.KeyColumn> key, List<String> lower, List<String> upper)
      throws SQLException {
    String sql =
        "SELECT count(*), coalesce(sum(" + ROW_HASH + "), 0) FROM ONLY " + table.sql() + " ferry_row"
            + where(key, lower, upper);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, lower, upper);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Sum(rs.getLong(1), rs.getBigDecimal(2));
      }
    }
  }

  /**
   * The checksum of the rows of a chunk whose key is one of {@code keys} (text, one value per key
   * column, cast back to the key's types): what a chunk's sum must leave out for rows changing
   * while it is compared. A key given twice counts once.
   */
  static Sum sumOf(
      Connection c, Catalog.Table table, List<Catalog.KeyColumn> key, List<List<String>> keys, List<String> lower,
      List<String> upper)
      throws SQLException {
    String range = where(key, lower, upper);
    String sql =
        "SELECT count(*), coalesce(sum(" + ROW_HASH + "), 0) FROM ONLY " + table.sql() + " ferry_row"
            + (range.isEmpty() ? " WHERE " : range + " AND ") + row(key) + " IN (" + keysFromJson(key) + ")";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int next = bind(ps, lower, upper);
      ps.setString(next, json(keys));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Sum(rs.getLong(1), rs.getBigDecimal(2));
      }
    }
  }

  /**
   * Each given key's row hash, by the key's position in {@code keys}; a key without a row is
   * absent. The same on both sides, so two maps compare row by row.
   */
  static java.util.Map<Integer, Long> hashesOf(
      Connection c, Catalog.Table table, List<Catalog.KeyColumn> key, List<List<String>> keys) throws SQLException {
    List<String> casts = new ArrayList<>();
    for (int i = 0; i < key.size(); i++) {
      casts.add("(e.v->>" + i + ")::" + key.get(i).type());
    }
    String sql =
        "SELECT e.n, " + ROW_HASH + " FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(v, n)"
            + " JOIN ONLY " + table.sql() + " ferry_row ON ("
            + key.stream().map(k -> "ferry_row." + Catalog.quote(k.name())).collect(Collectors.joining(", "))
            + ") = (" + String.join(", ", casts) + ")";
    java.util.Map<Integer, Long> hashes = new java.util.HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, json(keys));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          hashes.put(rs.getInt(1) - 1, rs.getLong(2));
        }
      }
    }
    return hashes;
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /** {@code [["1","a"], …]}: keys as one JSON parameter, whatever their number. */
  static String json(List<List<String>> keys) {
    try {
      return JSON.writeValueAsString(keys);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code SELECT (e->>0)::bigint, (e->>1)::text FROM jsonb_array_elements(?::jsonb) e}. */
  private static String keysFromJson(List<Catalog.KeyColumn> key) {
    List<String> casts = new ArrayList<>();
    for (int i = 0; i < key.size(); i++) {
      casts.add("(e->>" + i + ")::" + key.get(i).type());
    }
    return "SELECT " + String.join(", ", casts) + " FROM jsonb_array_elements(?::jsonb) e";
  }

  /**
   * The key {@link #CHUNK_ROWS} rows after {@code lower} in key order, where the next chunk
   * ends; {@code null} when fewer rows remain (the next chunk is the last, open-ended one).
   */
  static List<String> nextUpper(Connection c, Catalog.Table table, List<Catalog.KeyColumn> key, List<String> lower)
      throws SQLException {
    String columns = key.stream().map(k -> Catalog.quote(k.name()) + "::text").collect(Collectors.joining(", "));
    // Qualified: a bare name would sort by the text output column of the same name.
    String order = key.stream().map(k -> "ferry_row." + Catalog.quote(k.name())).collect(Collectors.joining(", "));
    String sql =
        "SELECT " + columns + " FROM ONLY " + table.sql() + " ferry_row" + where(key, lower, null)
            + " ORDER BY " + order + " LIMIT 1 OFFSET " + (CHUNK_ROWS - 1);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, lower, null);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        List<String> upper = new ArrayList<>();
        for (int i = 1; i <= key.size(); i++) {
          upper.add(rs.getString(i));
        }
        return upper;
      }
    }
  }

  /** The smallest and largest value of a single integer key, or {@code null} when empty. */
  static long[] integerBounds(Connection c, Catalog.Table table, Catalog.KeyColumn key) throws SQLException {
    String column = Catalog.quote(key.name());
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT min(" + column + "), max(" + column + ") FROM ONLY " + table.sql())) {
      rs.next();
      long min = rs.getLong(1);
      if (rs.wasNull()) {
        return null;
      }
      return new long[] {min, rs.getLong(2)};
    }
  }

  /** Large objects: how many, and a checksum of each one's oid and content. */
  static Sum largeObjects(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), coalesce(sum(('x' || substr(md5(m.oid::text || ':' || md5(lo_get(m.oid))), 1, 16))"
                    + "::bit(64)::bigint::numeric), 0) FROM pg_largeobject_metadata m")) {
      rs.next();
      return new Sum(rs.getLong(1), rs.getBigDecimal(2));
    }
  }

  /** {@code id > 10 and id <= 20}, for people. */
  static String describe(List<Catalog.KeyColumn> key, List<String> lower, List<String> upper) {
    if (key.isEmpty()) {
      return "whole table";
    }
    String columns =
        key.size() == 1
            ? key.get(0).name()
            : key.stream().map(Catalog.KeyColumn::name).collect(Collectors.joining(", ", "(", ")"));
    List<String> parts = new ArrayList<>();
    if (lower != null) {
      parts.add(columns + " > " + tuple(lower));
    }
    if (upper != null) {
      parts.add(columns + " <= " + tuple(upper));
    }
    return parts.isEmpty() ? "all rows" : String.join(" and ", parts);
  }

  private static String tuple(List<String> values) {
    return values.size() == 1 ? values.get(0) : "(" + String.join(", ", values) + ")";
  }

  private static String where(List<Catalog.KeyColumn> key, List<String> lower, List<String> upper) {
    List<String> conditions = new ArrayList<>();
    if (lower != null) {
      conditions.add(row(key) + " > " + parameters(key));
    }
    if (upper != null) {
      conditions.add(row(key) + " <= " + parameters(key));
    }
    return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
  }

  private static String row(List<Catalog.KeyColumn> key) {
    return key.stream().map(k -> Catalog.quote(k.name())).collect(Collectors.joining(", ", "(", ")"));
  }

  private static String parameters(List<Catalog.KeyColumn> key) {
    return key.stream().map(k -> "CAST(? AS " + k.type() + ")").collect(Collectors.joining(", ", "(", ")"));
  }

  /** Binds the bounds that are set; returns the next parameter's index. */
  private static int bind(PreparedStatement ps, List<String> lower, List<String> upper) throws SQLException {
    int i = 1;
    for (List<String> bound : java.util.Arrays.asList(lower, upper)) {
      if (bound != null) {
        for (String value : bound) {
          ps.setString(i++, value);
        }
      }
    }
    return i;
  }
}

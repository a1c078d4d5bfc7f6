package dev.ferry.testing.process;

import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares a target with its source without any of Ferry's code: per table {@code count(*)} and
 * an order-independent digest of {@code md5(row::text)} (two 64-bit sums of every row's md5),
 * the large objects' contents the same way, and every sequence's {@code last_value}. Two equal
 * digests mean the same multiset of rows: a doubled or a missing row changes the count and the
 * sums. Tables are every ordinary table and partition outside the system's and Ferry's own
 * schemas, taken from both sides, so one missing on either side is a difference.
 */
public final class IndependentComparison {
  /** What one side holds. */
  public record Side(Map<String, String> tables, Map<String, Long> sequences, String largeObjects) {}

  private final Side source;
  private final Side target;

  private IndependentComparison(Side source, Side target) {
    this.source = source;
    this.target = target;
  }

  public static IndependentComparison of(TestCluster sourceCluster, String sourceDb, TestCluster targetCluster, String targetDb)
      throws SQLException {
    return new IndependentComparison(read(sourceCluster, sourceDb), read(targetCluster, targetDb));
  }

  /** Every difference, one line each; empty when the target equals the source. */
  public List<String> differences() {
    List<String> diffs = new ArrayList<>();
    TreeSet<String> tables = new TreeSet<>(source.tables().keySet());
    tables.addAll(target.tables().keySet());
    for (String table : tables) {
      String s = source.tables().get(table);
      String t = target.tables().get(table);
      if (s == null || t == null || !s.equals(t)) {
        diffs.add("table " + table + ": source " + (s == null ? "missing" : s) + ", target " + (t == null ? "missing" : t));
      }
    }
    TreeSet<String> sequences = new TreeSet<>(source.sequences().keySet());
    sequences.addAll(target.sequences().keySet());
    for (String sequence : sequences) {
      Long s = source.sequences().get(sequence);
      Long t = target.sequences().get(sequence);
      if (!source.sequences().containsKey(sequence) || !target.sequences().containsKey(sequence) || !java.util.Objects.equals(s, t)) {
        diffs.add("sequence " + sequence + ": source " + s + ", target " + t);
      }
    }
    if (!source.largeObjects().equals(target.largeObjects())) {
      diffs.add("large objects: source " + source.largeObjects() + ", target " + target.largeObjects());
    }
    return diffs;
  }

  /** How many rows the source's table holds. */
  public long sourceRows(String table) {
    String digest = source.tables().get(table);
    if (digest == null) {
      throw new IllegalArgumentException("no table " + table + " on the source: " + source.tables().keySet());
    }
    return Long.parseLong(digest.substring(0, digest.indexOf(':')));
  }

  private static Side read(TestCluster cluster, String database) throws SQLException {
    try (Connection c = cluster.connect(database);
        Statement s = c.createStatement()) {
      List<String> names = new ArrayList<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                  + " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                  + " AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'ferry%'")) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
      Map<String, String> tables = new TreeMap<>();
      for (String table : names) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT count(*) || ':' || " + sum("h", 1) + " || ':' || " + sum("h", 17)
                    + " FROM (SELECT md5(t::text) AS h FROM " + table + " t) rows")) {
          rs.next();
          tables.put(table, rs.getString(1));
        }
      }
      Map<String, Long> sequences = new TreeMap<>();
      try (ResultSet rs =
          s.executeQuery("SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences"
              + " WHERE schemaname NOT LIKE 'ferry%'")) {
        while (rs.next()) {
          long value = rs.getLong(2);
          sequences.put(rs.getString(1), rs.wasNull() ? null : value);
        }
      }
      String largeObjects;
      try (ResultSet rs =
          s.executeQuery(
              "SELECT count(*) || ':' || " + sum("h", 1) + " || ':' || " + sum("h", 17)
                  + " FROM (SELECT md5(oid::text || ':' || md5(lo_get(oid))) AS h FROM pg_largeobject_metadata) los")) {
        rs.next();
        largeObjects = rs.getString(1);
      }
      return new Side(tables, sequences, largeObjects);
    }
  }

  /** The sum of one half of every row's md5, as a 64-bit number each, exactly (numeric). */
  private static String sum(String column, int from) {
    return "coalesce(sum(('x' || substr(" + column + ", " + from + ", 16))::bit(64)::bigint::numeric), 0)::text";
  }

  @Override
  public String toString() {
    return "source " + source + "\ntarget " + target;
  }
}

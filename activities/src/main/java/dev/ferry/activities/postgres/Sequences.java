package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads and sets the app's sequences (not those of extensions nor Ferry's own). */
final class Sequences {
  /** Sequences read or set per round trip. */
  static final int PER_ROUND_TRIP = 500;

  /**
   * One sequence's state, as {@code setval} takes it.
   *
   * @param name schema-qualified, quoted for SQL
   * @param display the same, quoted only where PostgreSQL needs it
   * @param lastValue {@code last_value}
   * @param isCalled whether {@code nextval} has returned {@code lastValue} already
   * @param increment its step (negative for descending sequences)
   */
  record State(String name, String display, long lastValue, boolean isCalled, long increment) {
    /** What the next {@code nextval} returns. */
    long next() {
      return isCalled ? lastValue + increment : lastValue;
    }

    /** Whether this side would hand out a value {@code other} already handed out. */
    boolean behind(State other) {
      return increment >= 0 ? next() < other.next() : next() > other.next();
    }
  }

  private Sequences() {}

  /** Every app sequence, by display name. */
  static Map<String, State> read(Connection c) throws SQLException {
    List<String[]> names = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT n.nspname, c.relname, seq.seqincrement FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " JOIN pg_sequence seq ON seq.seqrelid = c.oid"
                    + " WHERE c.relkind = 'S' AND"
                    + Catalog.USER_RELATION_FILTER
                    + " ORDER BY 1, 2")) {
      while (rs.next()) {
        names.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
      }
    }
    // A few hundred sequences per round trip: one query per sequence made a schema of 10,000
    // tables take 10,000 round trips per side, in the cutover's downtime.
    Map<String, State> states = new TreeMap<>();
    for (int from = 0; from < names.size(); from += PER_ROUND_TRIP) {
      List<String[]> batch = names.subList(from, Math.min(names.size(), from + PER_ROUND_TRIP));
      StringBuilder sql = new StringBuilder();
      for (int i = 0; i < batch.size(); i++) {
        Catalog.Table seq = new Catalog.Table(batch.get(i)[0], batch.get(i)[1]);
        sql.append(i == 0 ? "" : " UNION ALL ").append("SELECT ").append(i).append(", last_value, is_called FROM ").append(seq.sql());
      }
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql.toString())) {
        while (rs.next()) {
          String[] n = batch.get(rs.getInt(1));
          Catalog.Table seq = new Catalog.Table(n[0], n[1]);
          states.put(
              seq.display(),
              new State(seq.sql(), seq.display(), rs.getLong(2), rs.getBoolean(3), Long.parseLong(n[2])));
        }
      }
    }
    return states;
  }

  /**
   * Sets each pair's first sequence to the second's state ({@code setval}), a few hundred per
   * round trip: sequence sync is part of the cutover's downtime.
   */
  static void setAll(Connection c, List<State[]> targetsAndValues) throws SQLException {
    for (int from = 0; from < targetsAndValues.size(); from += PER_ROUND_TRIP) {
      List<State[]> batch = targetsAndValues.subList(from, Math.min(targetsAndValues.size(), from + PER_ROUND_TRIP));
      StringBuilder sql = new StringBuilder("SELECT count(*) FROM (VALUES ");
      for (int i = 0; i < batch.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("(setval(?::regclass, ?, ?))");
      }
      sql.append(") v");
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int p = 1;
        for (State[] pair : batch) {
          ps.setString(p++, pair[0].name());
          ps.setLong(p++, pair[1].lastValue());
          ps.setBoolean(p++, pair[1].isCalled());
        }
        ps.executeQuery().close();
      }
    }
  }
}

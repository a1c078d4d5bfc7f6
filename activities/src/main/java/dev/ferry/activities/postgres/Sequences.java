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
    Map<String, State> states = new TreeMap<>();
    for (String[] n : names) {
      Catalog.Table seq = new Catalog.Table(n[0], n[1]);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT last_value, is_called FROM " + seq.sql())) {
        rs.next();
        states.put(
            seq.display(),
            new State(seq.sql(), seq.display(), rs.getLong(1), rs.getBoolean(2), Long.parseLong(n[2])));
      }
    }
    return states;
  }

  /** Sets a sequence to a state, as {@code setval} does (outside any transaction's rollback). */
  static void set(Connection c, State target, State value) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
      ps.setString(1, target.name());
      ps.setLong(2, value.lastValue());
      ps.setBoolean(3, value.isCalled());
      ps.execute();
    }
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.ChangeFeed;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trigger method's own capture, read by a pre-verification: every changed key is a row of
 * {@code changes} on the source until applied; the applier records it then in {@code applied}
 * on the target, in the transaction that wrote the rows ({@link TriggerApply}), where the
 * pre-verification takes it. The target holds every change a snapshot holds once no change it
 * holds is left in {@code changes}: the applier deletes a change only after the target committed
 * it.
 */
final class TriggerChangeFeed implements ChangeFeed {
  private final String schema;

  TriggerChangeFeed(String syncSchema) {
    this.schema = syncSchema;
  }

  @Override
  public void install(Connection source, Connection target) throws SQLException {
    try (Statement s = target.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('" + schema + ".applied') IS NOT NULL")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the sync " + schema + " records no applied changes on the target (set up by an older Ferry, or gone):"
                + " it cannot be pre-verified",
            Errors.VERIFICATION_FAILED);
      }
    }
  }

  @Override
  public void forgetEarlier(Connection source, Connection target) throws SQLException {
    try (Statement s = target.createStatement()) {
      s.execute("DELETE FROM " + schema + ".applied");
    }
  }

  @Override
  public String markerSql() {
    return "NULL";
  }

  @Override
  public boolean targetIncludes(Connection source, String snapshot, String marker) throws SQLException {
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT NOT EXISTS (SELECT 1 FROM " + schema + ".changes WHERE pg_visible_in_snapshot(xid, ?::pg_snapshot))")) {
      ps.setString(1, snapshot);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  @Override
  public Batch take(Connection source, Connection target, boolean consume, int limit) throws SQLException {
    String rows =
        consume
            ? "(DELETE FROM " + schema + ".applied WHERE ctid = ANY (ARRAY(SELECT ctid FROM " + schema + ".applied LIMIT "
                + limit + ")) RETURNING nspname, relname, key, xid)"
            : "(SELECT nspname, relname, key, xid FROM " + schema + ".applied)";
    List<ChangedKey> keys = changedKeys(target, "WITH d AS " + rows + " SELECT nspname, relname, key, xid::text FROM d");
    return new Batch(keys, consume && keys.size() >= limit);
  }

  @Override
  public List<ChangedKey> unappliedAfter(Connection source, String snapshot) throws SQLException {
    return changedKeys(
        source,
        "WITH d AS (SELECT rel, key, xid FROM " + schema + ".changes"
            + " WHERE ?::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(xid, ?::pg_snapshot))" + SELECT_KEYS,
        snapshot,
        snapshot);
  }

  @Override
  public void remove(Connection source) {
    // The capture and its record are the sync's: its teardown drops them.
  }

  /** Changed keys of the source's log with their table's names; a truncate ({@code key} null) as {@code []}. */
  static final String SELECT_KEYS =
      " SELECT n.nspname, c.relname, coalesce(d.key, '{}'), d.xid::text FROM d JOIN pg_class c ON c.oid = d.rel"
          + " JOIN pg_namespace n ON n.oid = c.relnamespace";

  static List<ChangedKey> changedKeys(Connection c, String sql, String... parameters) throws SQLException {
    List<ChangedKey> keys = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        ps.setString(i + 1, parameters[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          keys.add(new ChangedKey(rs.getString(1), rs.getString(2), Arrays.asList((String[]) rs.getArray(3).getArray()), rs.getString(4)));
        }
      }
    }
    return keys;
  }
}

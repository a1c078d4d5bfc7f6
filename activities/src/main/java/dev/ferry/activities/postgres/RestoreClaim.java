package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes {@code pg_restore --clean} safe: before the first restore of a run, the target must hold
 * nothing of its own, and the run claims it by writing its id into a small marker schema. A
 * retry (or a new snapshot's restore) of the same run finds its own claim and may clean up its
 * own leftovers; anything else (objects created since preflight, another run's claim) is refused
 * rather than dropped. The claim is removed when the restore succeeds.
 */
public final class RestoreClaim {
  static final String SCHEMA = "ferry_restore_claim";

  private RestoreClaim() {}

  /**
   * Claims the target for {@code runKey} (the workflow id: every attempt and every new snapshot
   * of the run shares it), or confirms this run's earlier claim.
   *
   * @return the extensions the target had before this run's first restore (its provider's, not
   *     this run's: a retry must not mistake an extension its dead attempt created for one it
   *     should leave alone)
   * @throws ApplicationFailure {@code TargetNotEmpty} when the target holds anything else
   */
  public static Set<String> claim(Connection c, Endpoint target, String runKey) throws SQLException {
    return claim(c, target, runKey, true);
  }

  /**
   * {@link #claim(Connection, Endpoint, String)}, for a restore that does ({@code createsTables})
   * or does not (only indexes and constraints, after a logical subscription filled the tables)
   * create the tables: only a restore that creates them again may drop this run's earlier ones.
   */
  public static Set<String> claim(Connection c, Endpoint target, String runKey, boolean createsTables) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      // One claimant at a time, even if two runs aim at the same database.
      s.execute("SELECT pg_advisory_xact_lock(hashtext('" + SCHEMA + "'))");
      String claimedBy = currentClaim(s);
      if (claimedBy != null && !claimedBy.equals(runKey)) {
        throw ApplicationFailure.newNonRetryableFailure(
            target.describe()
                + " holds a partial restore of another run ("
                + claimedBy
                + "); drop and recreate the target database before migrating again",
            Errors.TARGET_NOT_EMPTY);
      }
      if (claimedBy != null && createsTables) {
        dropPartitionedTables(s);
      }
      if (claimedBy == null) {
        Catalog.UserObjects objects = Catalog.userObjects(c, SCHEMA, 10);
        if (!objects.none()) {
          throw ApplicationFailure.newNonRetryableFailure(
              target.describe()
                  + " is no longer empty, it holds "
                  + objects.describe()
                  + "; Ferry restores only into an empty database, so nothing there is dropped",
              Errors.TARGET_NOT_EMPTY);
        }
        s.execute("CREATE SCHEMA " + SCHEMA);
        s.execute("COMMENT ON SCHEMA " + SCHEMA + " IS 'Ferry: a restore into this database is under way'");
        s.execute("CREATE TABLE " + SCHEMA + ".claim (run text NOT NULL)");
        try (var insert = c.prepareStatement("INSERT INTO " + SCHEMA + ".claim (run) VALUES (?)")) {
          insert.setString(1, runKey);
          insert.executeUpdate();
        }
        s.execute("CREATE TABLE " + SCHEMA + ".extension AS SELECT extname AS name FROM pg_extension");
      }
      Set<String> extensions = new HashSet<>();
      try (ResultSet rs = s.executeQuery("SELECT name FROM " + SCHEMA + ".extension")) {
        while (rs.next()) {
          extensions.add(rs.getString(1));
        }
      }
      c.commit();
      return extensions;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /**
   * A retry's {@code pg_restore --clean} cannot undo partitioned tables its dead attempt had
   * finished: it drops each partition's primary key first, which PostgreSQL refuses ({@code
   * cannot drop inherited constraint "measurements_2023_pkey"}), and the restore fails for good.
   * The claim proves every table here is this run's own work, so the retry drops the partitioned
   * tables (with their partitions) itself; {@code --clean}'s {@code IF EXISTS} then finds
   * nothing of them.
   */
  private static void dropPartitionedTables(Statement s) throws SQLException {
    List<String> partitioned = new ArrayList<>();
    try (ResultSet rs =
        s.executeQuery(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind = 'p' AND NOT c.relispartition AND" + Catalog.USER_RELATION_FILTER)) {
      while (rs.next()) {
        partitioned.add(rs.getString(1));
      }
    }
    for (String table : partitioned) {
      s.execute("DROP TABLE IF EXISTS " + table + " CASCADE");
    }
  }

  /** Removes the claim after a restore that succeeded. Idempotent. */
  public static void release(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  private static String currentClaim(Statement s) throws SQLException {
    try (ResultSet rs =
        s.executeQuery("SELECT to_regclass('" + SCHEMA + ".claim') IS NOT NULL")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        return null;
      }
    }
    try (ResultSet rs = s.executeQuery("SELECT run FROM " + SCHEMA + ".claim LIMIT 1")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}

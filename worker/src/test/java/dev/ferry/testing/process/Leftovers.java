package dev.ferry.testing.process;

import dev.ferry.testing.postgres.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a run may leave behind, found without Ferry's code: in a database, every object whose
 * name starts with {@code ferry} (schemas, triggers, functions, event triggers, publications)
 * and every subscription and replication slot; on a cluster, sessions of Ferry's still
 * connected to a database; on a worker's disk, any file (dumps hold production data).
 */
public final class Leftovers {
  private Leftovers() {}

  /** Ferry's objects, and any subscription or slot, in {@code database}; one line each. */
  public static List<String> inDatabase(TestCluster cluster, String database) throws SQLException {
    List<String> found = new ArrayList<>();
    try (Connection c = cluster.connect(database);
        Statement s = c.createStatement()) {
      collect(s, found, "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'ferry%'");
      collect(s, found, "SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass FROM pg_trigger WHERE tgname LIKE 'ferry%'");
      collect(
          s,
          found,
          "SELECT 'function ' || p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
              + " WHERE p.proname LIKE 'ferry%' OR n.nspname LIKE 'ferry%'");
      collect(s, found, "SELECT 'event trigger ' || evtname FROM pg_event_trigger WHERE evtname LIKE 'ferry%'");
      collect(s, found, "SELECT 'publication ' || pubname FROM pg_publication WHERE pubname LIKE 'ferry%'");
      collect(
          s,
          found,
          "SELECT 'subscription ' || subname FROM pg_subscription"
              + " WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())");
      collect(s, found, "SELECT 'replication slot ' || slot_name FROM pg_replication_slots WHERE database = current_database()");
    }
    return found;
  }

  /**
   * As {@link #inDatabase}, without the write fence's own objects: a run that succeeded without
   * moving the traffic leaves its source frozen, fence and all, on purpose (nothing may write to
   * the old database after the cutover).
   */
  public static List<String> besidesTheFence(TestCluster cluster, String database) throws SQLException {
    return inDatabase(cluster, database).stream()
        .filter(line -> !line.equals("schema ferry_fence"))
        .filter(line -> !line.startsWith("trigger ferry_write_fence on "))
        .filter(line -> !line.startsWith("function ferry_fence."))
        .filter(line -> !line.equals("event trigger ferry_write_fence_ddl"))
        .toList();
  }

  /** Whether the write fence stands on every table of the app in {@code database}. */
  public static boolean fenced(TestCluster cluster, String database) throws SQLException {
    return cluster.queryLong(
            database,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                + " AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'ferry%'"
                + " AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'ferry_write_fence')")
        == 0;
  }

  /** Sessions of Ferry's ({@code application_name} {@code ferry-*}) connected to {@code database}. */
  public static List<String> sessions(TestCluster cluster, String database) throws SQLException {
    List<String> found = new ArrayList<>();
    try (Connection c = cluster.connect("postgres");
        var ps =
            c.prepareStatement(
                "SELECT application_name || ' (pid ' || pid || ', ' || coalesce(state, '?') || ')' FROM pg_stat_activity"
                    + " WHERE datname = ? AND application_name LIKE 'ferry-%'")) {
      ps.setString(1, database);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1));
        }
      }
    }
    return found;
  }

  /** Every regular file under {@code directory} (none when it does not exist). */
  public static List<String> files(Path directory) {
    if (!Files.exists(directory)) {
      return List.of();
    }
    try (Stream<Path> all = Files.walk(directory)) {
      return all.filter(Files::isRegularFile).map(Path::toString).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void collect(Statement s, List<String> into, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        into.add(rs.getString(1));
      }
    }
  }
}

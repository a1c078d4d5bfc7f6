package dev.ferry.activities.copy;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * Two ways to read a landed table back for the copy's check, alternated, with the machine's CPU
 * each took ({@code /proc/stat}): the check's query ({@code sum(hashtextextended(ROW(t.*)::text,
 * 0))}, computed by the target) against {@code COPY … TO STDOUT} with each line hashed in this JVM
 * ({@link TextHash}). Not a test: run by hand beside {@code bench/snapshot-restore.sh} (see
 * bench/README.md), never by surefire (its name matches no test pattern).
 *
 * <p>Arguments: a JDBC URL (the password from {@code PGPASSWORD}), the rounds, then the tables.
 */
public final class ReadBackCostBench {
  private ReadBackCostBench() {}

  /** The copy's sums, printed at the end so that the hashing is not optimised away. */
  private static long checksums;

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int rounds = Integer.parseInt(args[1]);
    List<String> tables = List.of(args).subList(2, args.length);
    try (Connection c = DriverManager.getConnection(url, System.getenv().getOrDefault("PGUSER", "ferry"), System.getenv("PGPASSWORD"))) {
      for (int round = 1; round <= rounds; round++) {
        for (String way : List.of("query", "copy")) {
          long[] before = machineTicks();
          long started = System.nanoTime();
          long thread = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
          long rows = 0;
          for (String table : tables) {
            rows += way.equals("query") ? byQuery(c, table) : byCopy(c, table);
          }
          long[] after = machineTicks();
          System.out.printf(
              Locale.ROOT, "round %d %s: %d rows, wall %.2f s, machine CPU %.2f s, this thread %.2f s%n", round, way, rows,
              (System.nanoTime() - started) / 1e9, (after[0] - before[0]) / 100.0,
              (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - thread) / 1e9);
        }
      }
    }
    System.out.println("sum of the copy's checksums " + checksums);
  }

  private static long byQuery(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*), sum(hashtextextended(ROW(t.*)::text, 0)) FROM " + table + " t")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long byCopy(Connection c, String table) throws SQLException {
    CopyOut out = c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY " + table + " TO STDOUT");
    long rows = 0;
    long sum = 0;
    byte[] row;
    while ((row = out.readFromCopy()) != null) {
      sum += TextHash.hash(row, 0, row.length - 1);
      rows++;
    }
    checksums += sum;
    return rows;
  }

  /** The machine's busy and total CPU ticks (1/100 s) since boot. */
  private static long[] machineTicks() throws Exception {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long busy = 0;
    long all = 0;
    for (int i = 1; i < f.length; i++) {
      long v = Long.parseLong(f[i]);
      all += v;
      if (i != 4 && i != 5) { // idle, iowait
        busy += v;
      }
    }
    return new long[] {busy, all};
  }
}

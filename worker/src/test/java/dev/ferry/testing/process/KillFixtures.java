package dev.ferry.testing.process;

import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * Source databases for process-level tests, cloned from templates (loaded once per cluster):
 * the sample shop with the table {@link ShopWriter} writes ({@code notes}) and, for steps long
 * enough to be killed in the middle, a million-row {@code page_views} with a primary key (so
 * the trigger sync can carry it) and a secondary index.
 */
public final class KillFixtures {
  public static final String BIG_TABLE = "public.page_views";
  public static final long BIG_TABLE_ROWS = 1_000_000;

  private KillFixtures() {}

  /** Creates {@code database} on the source cluster as the shop, the writer's table and page_views. */
  public static void createBigShop(String database) throws Exception {
    String script =
        Files.readString(TestCluster.sampleShopSql(), StandardCharsets.UTF_8)
            + "\n"
            + ShopWriter.NOTES_DDL
            + ";\n"
            + "CREATE TABLE public.page_views (id bigint PRIMARY KEY, path text NOT NULL, customer_id bigint,"
            + " viewed_at timestamptz NOT NULL);\n"
            + "INSERT INTO public.page_views SELECT g, '/p/' || (g % 1000), CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 5000 END,"
            + " '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, " + BIG_TABLE_ROWS + ") g;\n"
            + "CREATE INDEX page_views_path_idx ON public.page_views (path);\n"
            + "ANALYZE;\n";
    TestCluster.SOURCE.createFromScript(database, script.getBytes(StandardCharsets.UTF_8));
  }

  /** Creates {@code database} on the source cluster as the shop and the writer's table. */
  public static void createShop(String database) throws Exception {
    String script = Files.readString(TestCluster.sampleShopSql(), StandardCharsets.UTF_8) + "\n" + ShopWriter.NOTES_DDL + ";\n";
    TestCluster.SOURCE.createFromScript(database, script.getBytes(StandardCharsets.UTF_8));
  }

  /** The trigger sync's change table on the source ({@code ferry_sync_<tag>.changes}), or null while there is none. */
  public static String changeTable(String sourceDatabase) {
    long count =
        DatabaseState.queryLong(TestCluster.SOURCE, sourceDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry\\_sync\\_%'");
    if (count != 1) {
      return null;
    }
    try (var c = TestCluster.SOURCE.connect(sourceDatabase);
        var s = c.createStatement();
        var rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_sync\\_%'")) {
      rs.next();
      return rs.getString(1) + ".changes";
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Changes captured and not yet applied; -1 when there is no capture. */
  public static long pendingChanges(String sourceDatabase) {
    String table = changeTable(sourceDatabase);
    if (table == null) {
      return -1;
    }
    try {
      return DatabaseState.queryLong(TestCluster.SOURCE, sourceDatabase, "SELECT count(*) FROM " + table);
    } catch (IllegalStateException e) {
      return -1; // dropped meanwhile
    }
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.postgres.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore's table of contents, written from a real dump of a source that holds Ferry's own
 * publications beside the app's: a logical sync's setup retried after its worker died dumps the
 * schema again, after it published the app's tables under Ferry's name.
 */
class RestoreListTest {
  @TempDir Path workDir;
  private String database;

  @BeforeEach
  void createSource() throws Exception {
    database = TestCluster.uniqueDatabaseName("restorelist");
    TestCluster.SOURCE.createDatabase(database);
    TestCluster.SOURCE.execute(
        database,
        "CREATE TABLE public.orders (id int PRIMARY KEY)",
        "CREATE SCHEMA tenant",
        "CREATE TABLE tenant.notes (id int PRIMARY KEY)",
        "CREATE PUBLICATION app_changes FOR TABLE public.orders",
        // The app's, though its name starts as Ferry's do.
        "CREATE PUBLICATION ferry_routes FOR TABLE tenant.notes",
        "CREATE PUBLICATION ferry_pub_1e146f2247fa FOR TABLE public.orders, tenant.notes",
        "COMMENT ON PUBLICATION ferry_pub_1e146f2247fa IS 'a run''s'",
        "CREATE PUBLICATION ferry_sync_1e146f2247fa_keys FOR TABLES IN SCHEMA tenant");
  }

  @AfterEach
  void dropSource() throws Exception {
    TestCluster.SOURCE.dropDatabase(database);
  }

  @Test
  void ferrysOwnPublications_areLeftOut_theAppsAreRestored() throws Exception {
    PgTools tools = PgTools.locate(System.getenv());
    Path dump = workDir.resolve("dump");
    ProcessBuilder pgDump =
        new ProcessBuilder(
                tools.command("pg_dump"), "--format=directory", "--schema-only", "--file=" + dump, "--host=127.0.0.1",
                "--port=" + TestCluster.SOURCE.port(), "--username=" + TestCluster.USER, database)
            .redirectErrorStream(true);
    pgDump.environment().put("PGPASSWORD", TestCluster.PASSWORD);
    Process process = pgDump.start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(output).isZero();

    RestoreList.Written list = RestoreList.write(tools, dump, Set.of(), line -> false);
    try {
      List<String> lines = Files.readAllLines(list.file());
      List<String> restored = lines.stream().filter(l -> !l.startsWith(";") && l.contains("PUBLICATION")).toList();
      List<String> leftOut = lines.stream().filter(l -> l.startsWith(";") && l.contains("PUBLICATION")).toList();

      assertThat(restored)
          .as("the app's publications and their tables")
          .hasSize(4)
          .allSatisfy(l -> assertThat(l).containsAnyOf(" app_changes ", " ferry_routes "));
      assertThat(leftOut)
          .as("Ferry's: each publication, the comment, its tables and its schema")
          .hasSize(6)
          .allSatisfy(l -> assertThat(l).containsAnyOf(" ferry_pub_1e146f2247fa ", " ferry_sync_1e146f2247fa_keys "));
      assertThat(leftOut).anySatisfy(l -> assertThat(l).contains("COMMENT - PUBLICATION ferry_pub_1e146f2247fa"));
      assertThat(leftOut).anySatisfy(l -> assertThat(l).contains("PUBLICATION TABLES IN SCHEMA tenant ferry_sync_1e146f2247fa_keys"));
    } finally {
      RestoreList.delete(list);
    }
  }

  @Test
  void aTableOfContentsLine_isFerrysOnlyWhenThePublicationsNameIs() {
    assertThat(RestoreList.isFerrysPublication("3347; 6104 492165 PUBLICATION - ferry_pub_1e146f2247fa ferry")).isTrue();
    assertThat(RestoreList.isFerrysPublication("3350; 6106 492166 PUBLICATION TABLE public ferry_pub_1e146f2247fa t ferry"))
        .isTrue();
    assertThat(RestoreList.isFerrysPublication("3348; 6104 492167 PUBLICATION - ferry_pub_archive ferry")).isFalse();
    assertThat(RestoreList.isFerrysPublication("3349; 6104 492169 PUBLICATION - ferry_pub_1e146f2247fa_old ferry")).isFalse();
    // A table whose name starts so, in the app's publication, is the app's.
    assertThat(RestoreList.isFerrysPublication("3351; 6106 492168 PUBLICATION TABLE public apppub ferry_orders ferry")).isFalse();
    assertThat(RestoreList.isFerrysPublication("3352; 6237 492170 PUBLICATION TABLES IN SCHEMA ferry_x apppub ferry_x ferry"))
        .isFalse();
    assertThat(RestoreList.isFerrysPublication("215; 1259 492154 TABLE public ferry_pub_1e146f2247fa ferry")).isFalse();
  }
}

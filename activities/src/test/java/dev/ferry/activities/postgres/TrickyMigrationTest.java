package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tricky fixture (every trap of a real Heroku database, a million-row table) through
 * preflight, snapshot, restore and verification between the real clusters: it migrates exactly,
 * and every kind of difference planted afterwards is found and named.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrickyMigrationTest {
  @TempDir static Path workDir;
  static MigrationDatabases tricky;
  static Harness harness;
  static PreflightReport preflight;
  static Snapshot snapshot;
  static RestoreResult restored;

  @BeforeAll
  static void migrate() throws Exception {
    tricky = MigrationDatabases.tricky();
    harness = new Harness(tricky, workDir, Map.of());
    preflight = harness.preflight(tricky);
    snapshot = harness.dump();
    restored = harness.restore(snapshot);
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    harness.close();
    tricky.close();
  }

  @Test
  @Order(1)
  void preflight_flagsEveryTrapOfTheFixture() {
    SourceAudit audit = preflight.audit();

    assertThat(audit.extensions())
        .extracting(SourceAudit.ExtensionCheck::name, SourceAudit.ExtensionCheck::schema, SourceAudit.ExtensionCheck::availableOnTarget)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("citext", "heroku_ext", true),
            org.assertj.core.groups.Tuple.tuple("pgcrypto", "public", true));
    assertThat(audit.tablesWithoutPrimaryKey()).containsExactly("public.audit_log");
    assertThat(audit.tablesWithoutReplicaIdentity()).containsExactly("public.audit_log (replica identity default, no primary key)");
    assertThat(audit.generatedColumns()).containsExactly("public.products.price");
    assertThat(audit.largeObjects()).isEqualTo(1);
    assertThat(audit.unloggedTables()).containsExactly("public.session_cache");
    assertThat(audit.sequences())
        .contains(
            "\"Billing\".invoice_numbers → (no owner)",
            "public.customers_id_seq → public.customers.id",
            "public.events_id_seq → public.events.id",
            "public.page_views_id_seq → public.page_views.id");
    // The local "heroku" cluster runs wal_level=logical with a superuser: logical replication works.
    assertThat(audit.logicalReplication().possible()).isTrue();
    assertThat(preflight.warnings())
        .anySatisfy(w -> assertThat(w).contains("citext", "heroku_ext"))
        .anySatisfy(w -> assertThat(w).contains("without a primary key", "public.audit_log"))
        .anySatisfy(w -> assertThat(w).contains("unlogged", "public.session_cache"))
        // Counted (above), no longer a warning that sync loses them: the snapshot and both sync
        // methods carry them. (The fence's warning that it cannot stop their writes stays.)
        .noneSatisfy(w -> assertThat(w).containsIgnoringCase("large object").containsIgnoringCase("sync does not"));
    assertThat(preflight.source().readOnly()).isFalse();
    assertThat(preflight.source().freeConnections()).isPositive();
  }

  @Test
  @Order(2)
  void trickyDatabase_migratesAndVerifiesExactly() {
    VerificationReport report = harness.verify(tricky);

    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(table(report, "public.page_views"))
        .satisfies(t -> {
          assertThat(t.sourceRows()).isEqualTo(1_000_500);
          assertThat(t.method()).isEqualTo("primary key range");
          assertThat(t.chunks()).isGreaterThanOrEqualTo(20);
        });
    assertThat(table(report, "\"Billing\".\"Invoice Lines\"").method()).isEqualTo("primary key order");
    assertThat(table(report, "public.countries"))
        .satisfies(t -> {
          assertThat(t.method()).isEqualTo("primary key order");
          assertThat(t.sourceRows()).isEqualTo(6);
        });
    assertThat(table(report, "public.audit_log").method()).isEqualTo("whole table");
    assertThat(table(report, "public.measurements_2024").sourceRows()).isPositive();
    assertThat(table(report, VerifyActivitiesImpl.LARGE_OBJECTS).sourceRows()).isEqualTo(1);
    assertThat(report.sequences()).extracting(s -> s.sequence())
        .contains("\"Billing\".invoice_numbers", "public.customers_id_seq");
    assertThat(report.sequences()).filteredOn(s -> s.sequence().equals("public.customers_id_seq")).singleElement()
        .satisfies(s -> assertThat(s.sourceValue()).isEqualTo(2_500_002L));
    assertThat(restored.tables()).isEqualTo(report.tables().size() - 1);
  }

  @Test
  @Order(3)
  void everyKindOfDifference_isFoundAndNamed() throws Exception {
    String target = tricky.target;
    try {
      TestCluster.TARGET.execute(
          target,
          // One changed value in one row of a million.
          "UPDATE public.page_views SET path = '/p/changed' WHERE id = 777777",
          // A missing row (composite key, quoted names) and an extra row (text key).
          "DELETE FROM \"Billing\".\"Invoice Lines\" WHERE \"InvoiceId\" = 1012345 AND \"LineNo\" = 2",
          "INSERT INTO public.countries VALUES ('XX', 'extra', NULL)",
          // A duplicate row in the table without a primary key.
          "INSERT INTO public.audit_log SELECT * FROM public.audit_log LIMIT 1",
          // A NULL turned into an empty string.
          "UPDATE public.countries SET calling_code = '' WHERE code = 'IE'",
          // A sequence behind, a missing index, a changed large object.
          "SELECT setval('\"Billing\".invoice_numbers', 7000000)",
          "DROP INDEX public.page_views_path_idx",
          "SELECT lo_put((SELECT body FROM public.documents WHERE id = 1), 0, 'T'::bytea)");

      VerificationReport report = harness.verify(tricky);

      assertThat(report.problems())
          .anySatisfy(p -> assertThat(p).startsWith("public.page_views: 1 of ").satisfies(TrickyMigrationTest::namesTheChunkOfRow777777))
          .anySatisfy(p -> assertThat(p).startsWith("\"Billing\".\"Invoice Lines\": 1 of 2 chunk(s) differ (source 60000 rows, target 59999)"))
          .anySatisfy(p -> assertThat(p).startsWith("public.countries: 1 of 1 chunk(s) differ (source 6 rows, target 7)"))
          .anySatisfy(p -> assertThat(p).startsWith("public.audit_log: 1 of 1 chunk(s) differ (source 3000 rows, target 3001): whole table"))
          .anySatisfy(p -> assertThat(p).startsWith("(large objects): 1 of 1 chunk(s) differ"))
          .anySatisfy(p -> assertThat(p).isEqualTo(
              "sequence \"Billing\".invoice_numbers: behind on target (source next 7654322, target next 7000001)"))
          .anySatisfy(p -> assertThat(p).startsWith("index public.page_views_path_idx missing on target"));
      assertThat(report.mismatches()).isEqualTo(7);
    } finally {
      TestCluster.TARGET.execute(
          target,
          "UPDATE public.page_views SET path = '/p/777' WHERE id = 777777",
          "INSERT INTO \"Billing\".\"Invoice Lines\" VALUES (1012345, 2, 'SKU-" + (12345 * 2 % 500) + "', 3, 7.00)",
          "DELETE FROM public.countries WHERE code = 'XX'",
          "DELETE FROM public.audit_log WHERE ctid = (SELECT max(ctid) FROM public.audit_log)",
          "UPDATE public.countries SET calling_code = NULL WHERE code = 'IE'",
          "SELECT setval('\"Billing\".invoice_numbers', 7654321)",
          "CREATE INDEX page_views_path_idx ON public.page_views (path)",
          "SELECT lo_put((SELECT body FROM public.documents WHERE id = 1), 0, 't'::bytea)");
    }
    assertThat(harness.verify(tricky).problems()).as("the differences undone, the two sides agree again").isEmpty();
  }

  @Test
  @Order(4)
  void targetThatAlreadyHasAnExtension_keepsItsOwnCopyAndTheRestoreSucceeds() throws Exception {
    String target = TestCluster.uniqueDatabaseName("tricky_ext");
    TestCluster.TARGET.createDatabase(target);
    try {
      // As RDS ships some extensions installed: the dump's CREATE EXTENSION, its --clean DROP
      // and its COMMENT (owner only) must leave this one alone.
      TestCluster.TARGET.execute(target, "CREATE EXTENSION pgcrypto");
      long before = TestCluster.TARGET.queryLong(target, "SELECT oid FROM pg_extension WHERE extname = 'pgcrypto'");
      try (Harness other = new Harness(tricky, workDir, Map.of("SHOP_TARGET_URL", TestCluster.TARGET.url(target)))) {
        assertThat(other.preflight(tricky).warnings()).isNotNull();
        other.restore(snapshot);

        assertThat(TestCluster.TARGET.queryLong(target, "SELECT oid FROM pg_extension WHERE extname = 'pgcrypto'"))
            .isEqualTo(before);
        assertThat(other.verify(tricky).problems()).isEmpty();
      }
    } finally {
      TestCluster.TARGET.dropDatabase(target);
    }
  }

  @Test
  @Order(5)
  void targetWithAnExtensionInAnotherSchema_isRefusedByPreflightWithTheFix() throws Exception {
    String target = TestCluster.uniqueDatabaseName("tricky_ext");
    TestCluster.TARGET.createDatabase(target);
    try {
      TestCluster.TARGET.execute(target, "CREATE EXTENSION citext");
      try (Harness other = new Harness(tricky, workDir, Map.of("SHOP_TARGET_URL", TestCluster.TARGET.url(target)))) {
        assertThatThrownBy(() -> other.preflight(tricky))
            .rootCause()
            .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
              assertThat(f.getType()).isEqualTo(Errors.EXTENSION_UNAVAILABLE);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage())
                  .contains("citext is installed in schema public on the target but in heroku_ext on the source")
                  .contains("ALTER EXTENSION citext SET SCHEMA heroku_ext");
            });
      }
    } finally {
      TestCluster.TARGET.dropDatabase(target);
    }
  }

  @Test
  @Order(6)
  void restoreThatDiedHalfway_retried_dropsTheExtensionsItHadCreatedAndEndsExact() throws Exception {
    String target = TestCluster.uniqueDatabaseName("tricky_retry");
    TestCluster.TARGET.createDatabase(target);
    Path copy = Files.createDirectories(workDir.resolve("retry"));
    try (Harness other = new Harness(tricky, copy, Map.of("SHOP_TARGET_URL", TestCluster.TARGET.url(target)))) {
      Snapshot dump = other.dump();
      Path data;
      try (var files = Files.list(Path.of(dump.directory()))) {
        data = files.filter(f -> f.toString().endsWith(".dat.gz")).max(Comparator.comparingLong(TrickyMigrationTest::size)).orElseThrow();
      }
      byte[] good = Files.readAllBytes(data);
      Files.writeString(data, "not gzip"); // the first attempt dies after the schema and citext exist

      assertThatThrownBy(() -> other.restore(dump)).hasStackTraceContaining(Errors.RESTORE_FAILED);
      assertThat(TestCluster.TARGET.queryLong(target, "SELECT count(*) FROM pg_extension WHERE extname = 'citext'")).isOne();

      Files.write(data, good);
      other.restore(dump);

      assertThat(other.verify(tricky).problems()).isEmpty();
    } finally {
      TestCluster.TARGET.dropDatabase(target);
    }
  }

  @Test
  @Order(7)
  void restoreRetriedAfterItsDeadAttemptHadBuiltThePartitionKeys_endsExact() throws Exception {
    String target = TestCluster.uniqueDatabaseName("tricky_keys");
    TestCluster.TARGET.createDatabase(target);
    Path copy = Files.createDirectories(workDir.resolve("keys"));
    try (Harness other = new Harness(tricky, copy, Map.of("SHOP_TARGET_URL", TestCluster.TARGET.url(target)))) {
      Snapshot dump = other.dump();
      other.restore(dump);
      // As if that attempt died after the partitions' primary keys existed, before it released
      // its claim (parallel jobs finish some tables' keys while others still load).
      TestCluster.TARGET.execute(
          target,
          "CREATE SCHEMA ferry_restore_claim",
          "CREATE TABLE ferry_restore_claim.claim (run text NOT NULL)",
          "INSERT INTO ferry_restore_claim.claim VALUES ('" + Harness.WORKFLOW_ID + "')",
          "CREATE TABLE ferry_restore_claim.extension AS SELECT 'plpgsql'::name AS name");

      other.restore(dump);

      assertThat(other.verify(tricky).problems()).isEmpty();
    } finally {
      TestCluster.TARGET.dropDatabase(target);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code id > A and id <= B [source N, target N rows]} with A < 777777 <= B. */
  private static void namesTheChunkOfRow777777(String problem) {
    var m = java.util.regex.Pattern.compile("id > (\\d+) and id <= (\\d+) \\[source (\\d+), target (\\d+) rows]").matcher(problem);
    assertThat(m.find()).as(problem).isTrue();
    assertThat(Long.parseLong(m.group(1))).isLessThan(777777);
    assertThat(Long.parseLong(m.group(2))).isGreaterThanOrEqualTo(777777);
    assertThat(m.group(3)).as("same row count: a changed row, not a missing one").isEqualTo(m.group(4));
  }

  private static TableComparison table(VerificationReport report, String name) {
    return report.tables().stream()
        .filter(t -> t.table().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no table " + name + " in " + report.tables()));
  }
}

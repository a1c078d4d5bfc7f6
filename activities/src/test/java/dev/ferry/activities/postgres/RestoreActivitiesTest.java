package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.RestoreActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.testing.ActivityFailures;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** pg_restore into the real target cluster, and what makes it refuse or fail. */
class RestoreActivitiesTest extends ShopDatabaseTest {
  @Test
  void restore_copiesEveryTableRowSequenceAndView_analyzesTheTarget_andLeavesNoClaimBehind() throws Exception {
    RestoreResult restored = harness.restore(harness.dump());

    assertThat(restored.tables()).isEqualTo(5);
    assertThat(harness.verify(shop).mismatches()).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT last_value FROM billing.invoice_number_seq"))
        .isEqualTo(115999);
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM billing.revenue_by_country"))
        .isEqualTo(7);
    assertThat(claimSchemas()).isZero();
    // The planner has statistics before any traffic comes: every table analyzed (not by autovacuum).
    assertThat(TestCluster.TARGET.tablesAnalyzed(shop.target, true)).isGreaterThanOrEqualTo(5);
    assertThat(TestCluster.TARGET.tablesAnalyzed(shop.target, false)).isZero();
  }

  @Test
  void restoreWhoseAnalysisFailed_keepsItsClaim_andItsRetryEndsCorrect() throws Exception {
    Snapshot snapshot = harness.dump();
    // A worker whose vacuumdb cannot reach the target: pg_restore has done its work by then.
    Path bin = ToolDirs.withOnly(workDir.resolve("bin"), "pg_restore");
    Path vacuumdb = bin.resolve("vacuumdb");
    Files.writeString(
        vacuumdb,
        "#!/bin/sh\necho 'vacuumdb: error: connection to server at \"127.0.0.1\", port 5434 failed: Connection refused'\nexit 1\n");
    vacuumdb.toFile().setExecutable(true);
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new RestoreActivitiesImpl(shop.databases(Map.of()), new PgTools(bin), harness.store));
      RestoreActivities broken = env.newActivityStub(RestoreActivities.class);
      ApplicationFailure failure =
          ActivityFailures.failureOf(
              () -> broken.restoreDatabase(
                  new RestoreRequest("restore-" + harness.snapshotKey, snapshot, MigrationDatabases.TARGET_REF, 2)));
      assertThat(failure.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
      assertThat(failure.isNonRetryable()).isFalse();
    } finally {
      env.close();
    }
    assertThat(claimSchemas()).as("the target is still the run's, for the retry to restore into").isOne();

    harness.restore(snapshot);

    assertThat(harness.verify(shop).mismatches()).isZero();
    assertThat(claimSchemas()).isZero();
    assertThat(TestCluster.TARGET.tablesAnalyzed(shop.target, false)).isZero();
  }

  @Test
  void restoreThatFailedMidway_retried_cleansUpItsOwnWorkAndEndsCorrect() throws Exception {
    Snapshot snapshot = harness.dump();
    Path dataFile = largestDataFile(snapshot);
    Path good = Files.copy(dataFile, workDir.resolve("good.dat.gz"));
    Files.writeString(dataFile, "not gzip"); // the restore dies partway through

    assertThatThrownBy(() -> harness.restore(snapshot)).hasStackTraceContaining(Errors.RESTORE_FAILED);
    assertThat(claimSchemas()).as("the run's claim stays while its work is partial").isOne();

    Files.copy(good, dataFile, StandardCopyOption.REPLACE_EXISTING);
    harness.restore(snapshot);

    assertThat(harness.verify(shop).mismatches()).isZero();
    assertThat(claimSchemas()).isZero();
  }

  @Test
  void restoreThatMeetsAnError_stopsAndSaysWhichInsteadOfCarryingOn() throws Exception {
    Snapshot snapshot = harness.dump();
    Files.writeString(largestDataFile(snapshot), "not gzip");

    assertFailure(
        () -> harness.restore(snapshot),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.RESTORE_FAILED);
          assertThat(f.isNonRetryable()).isTrue();
          assertThat(f.getOriginalMessage())
              .startsWith("pg_restore failed on target (env:SHOP_TARGET_URL → ferry@127.0.0.1:")
              .doesNotContain(TestCluster.PASSWORD);
        });
  }

  @Test
  void targetThatGainedObjectsSincePreflight_isRefusedAndKeepsThem() throws Exception {
    Snapshot snapshot = harness.dump();
    TestCluster.TARGET.execute(shop.target, "CREATE TABLE customers (id int)", "INSERT INTO customers VALUES (7)");

    assertFailure(
        () -> harness.restore(snapshot),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.TARGET_NOT_EMPTY);
          assertThat(f.getOriginalMessage()).contains("is no longer empty", "table public.customers");
        });
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT id FROM customers")).isEqualTo(7);
  }

  @Test
  void targetClaimedByAnotherRun_isRefused() throws Exception {
    Snapshot snapshot = harness.dump();
    TestCluster.TARGET.execute(
        shop.target,
        "CREATE SCHEMA " + RestoreClaim.SCHEMA,
        "CREATE TABLE " + RestoreClaim.SCHEMA + ".claim (run text)",
        "INSERT INTO " + RestoreClaim.SCHEMA + ".claim VALUES ('migration-shop-0badc0de')");

    assertFailure(
        () -> harness.restore(snapshot),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.TARGET_NOT_EMPTY);
          assertThat(f.getOriginalMessage()).contains("partial restore of another run (migration-shop-0badc0de)");
        });
  }

  @Test
  void snapshotThisHostDoesNotHave_isReportedMissingSoTheWorkflowTakesANewOne() {
    Snapshot elsewhere = new Snapshot(Harness.HOST_QUEUE, workDir.resolve("snapshots/gone/k").toString(), 1, 1);

    assertFailure(
        () -> harness.restore(elsewhere),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.SNAPSHOT_MISSING);
          assertThat(f.getOriginalMessage()).contains("is not on this host");
        });
  }

  @Test
  void restore_endsAnOrphanedPgRestoreOfTheSameRunFirst() throws Exception {
    Snapshot snapshot = harness.dump();
    try (Connection orphan = TestCluster.TARGET.connect(shop.target)) {
      try (Statement s = orphan.createStatement()) {
        s.execute("SET application_name = 'ferry-restore-" + Harness.WORKFLOW_ID + "'");
      }

      harness.restore(snapshot);

      assertThat(orphan.isValid(5)).isFalse();
    }
  }

  private long claimSchemas() throws Exception {
    return TestCluster.TARGET.queryLong(
        shop.target, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + RestoreClaim.SCHEMA + "'");
  }

  private static Path largestDataFile(Snapshot snapshot) throws Exception {
    try (Stream<Path> files = Files.list(Path.of(snapshot.directory()))) {
      return files
          .filter(p -> p.toString().endsWith(".dat.gz"))
          .max(java.util.Comparator.comparingLong(p -> p.toFile().length()))
          .orElseThrow();
    }
  }

  private static void assertFailure(Runnable call, Consumer<ApplicationFailure> check) {
    assertThatThrownBy(call::run).rootCause().isInstanceOfSatisfying(ApplicationFailure.class, check::accept);
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.PreflightActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preflight against the two real local clusters, and against what is wrong with them. */
class PreflightActivitiesTest extends ShopDatabaseTest {

  @Test
  void reachableSourceAndEmptyTarget_passWithTheirFacts() {
    PreflightReport report = harness.preflight(shop);

    assertThat(report.source().endpoint()).isEqualTo("ferry@127.0.0.1:" + TestCluster.SOURCE.port() + "/" + shop.source);
    assertThat(report.source().serverVersionNum()).isGreaterThanOrEqualTo(150000);
    assertThat(report.source().tables()).isEqualTo(5);
    assertThat(report.source().sequences()).isEqualTo(4);
    assertThat(report.source().sizeBytes()).isGreaterThan(10_000_000);
    assertThat(report.target().tables()).isZero();
    assertThat(report.dumpToolVersion()).startsWith("pg_dump (PostgreSQL)");
    // Only what the write fence cannot stop here (a superuser credential, sequences): see WriteFenceTest.
    assertThat(report.warnings()).allSatisfy(w -> assertThat(w).containsAnyOf("write fence", "not fenced"));
  }

  @Test
  void targetThatAlreadyHasTables_isRefusedNamingThem() throws Exception {
    TestCluster.TARGET.execute(shop.target, "CREATE TABLE leftovers (id int)", "CREATE SCHEMA \"Old\"", "CREATE TABLE \"Old\".\"Users\" (id int)");

    assertFailure(
        Map.of(),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.TARGET_NOT_EMPTY);
          assertThat(f.isNonRetryable()).isTrue();
          assertThat(f.getOriginalMessage())
              .startsWith("target (env:SHOP_TARGET_URL → ferry@127.0.0.1:")
              .contains("already holds 3 object(s): schema \"Old\", table \"Old\".\"Users\", table public.leftovers");
        });
  }

  @Test
  void targetWithOnlyAFunctionOrAType_isNotEmptyEither() throws Exception {
    TestCluster.TARGET.execute(
        shop.target, "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'", "CREATE TYPE mood AS ENUM ('ok')");

    assertFailure(
        Map.of(),
        f -> assertThat(f.getOriginalMessage()).contains("2 object(s): type public.mood, function public.answer"));
  }

  @Test
  void unreachableTarget_isRetryableAndNamesTheSide() {
    assertFailure(
        Map.of("SHOP_TARGET_URL", "postgres://ferry:pw@127.0.0.1:1/shop"),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
          assertThat(f.isNonRetryable()).isFalse();
          assertThat(f.getOriginalMessage()).startsWith("target (env:SHOP_TARGET_URL → ferry@127.0.0.1:1/shop): cannot connect");
        });
  }

  @Test
  void wrongPassword_isFinalNamesTheSideAndKeepsThePasswordOut() {
    assertFailure(
        Map.of("SHOP_SOURCE_URL", TestCluster.SOURCE.urlWithPassword(shop.source, "Wr0ng-Pa55")),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.DATABASE_AUTH_FAILED);
          assertThat(f.isNonRetryable()).isTrue();
          assertThat(f.getOriginalMessage())
              .startsWith("source (env:SHOP_SOURCE_URL → ferry@127.0.0.1:")
              .contains("password authentication failed")
              .doesNotContain("Wr0ng-Pa55");
        });
  }

  @Test
  void missingDatabase_isFinal() {
    assertFailure(
        Map.of("SHOP_SOURCE_URL", TestCluster.SOURCE.url("no_such_db")),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.DATABASE_NOT_FOUND);
          assertThat(f.getOriginalMessage()).contains("no_such_db");
        });
  }

  @Test
  void referenceThatIsNotAPostgresUrl_isFinalWithoutEchoingIt() {
    assertFailure(
        Map.of("SHOP_SOURCE_URL", "mysql://root:hunter2@db/shop"),
        f -> {
          assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED);
          assertThat(f.getOriginalMessage())
              .isEqualTo("source.databaseUrl: the value of env:SHOP_SOURCE_URL is not a PostgreSQL URL (postgres://user:password@host:port/database)");
        });
  }

  @Test
  void unsetReference_isFinal() {
    PreflightActivities activities = harness.env.newActivityStub(PreflightActivities.class);

    // Allowed by the worker's default list, and unset here.
    assertThatThrownBy(() -> activities.auditDatabases(new DatabasePair("env:SHOP_SYNC_SOURCE_URL", MigrationDatabases.TARGET_REF)))
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED));
  }

  @Test
  void workerWithoutTheTools_isFinal() {
    assertToolMissing(new PgTools(Path.of("/nonexistent/bin")), "pg_dump is not installed");
  }

  @Test
  void workerWithoutVacuumdb_isFinal_beforeAnythingIsCopied(@TempDir Path bin) throws Exception {
    // pg_dump and pg_restore, not vacuumdb, which ends every copy by analyzing the target.
    assertToolMissing(new PgTools(ToolDirs.withOnly(bin, "pg_dump", "pg_restore")), "vacuumdb is not installed");
  }

  /** Preflight on a worker with these tools fails for good, as {@code ToolMissing}, saying {@code message}. */
  private void assertToolMissing(PgTools tools, String message) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new PreflightActivitiesImpl(shop.databases(Map.of()), tools));
      PreflightActivities activities = env.newActivityStub(PreflightActivities.class);

      assertThatThrownBy(() -> activities.auditDatabases(shop.references()))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.TOOL_MISSING);
                assertThat(f.getOriginalMessage()).contains(message);
              });
    } finally {
      env.close();
    }
  }

  private void assertFailure(Map<String, String> environment, Consumer<ApplicationFailure> check) {
    try (Harness other = new Harness(shop, workDir, environment)) {
      assertThatThrownBy(() -> other.preflight(shop))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, check::accept);
    }
  }
}

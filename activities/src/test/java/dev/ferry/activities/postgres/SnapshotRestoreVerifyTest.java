package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.ShopDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pg_dump, pg_restore and row-count verification against the two real local clusters. */
class SnapshotRestoreVerifyTest {
  static final String HOST_QUEUE = "ferry-host-test";
  static ShopDatabases shop;

  @TempDir Path workDir;
  TestActivityEnvironment env;
  SnapshotStore store;
  String snapshotKey = java.util.UUID.randomUUID().toString();

  @BeforeAll
  static void createDatabases() throws Exception {
    shop = ShopDatabases.create();
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    shop.close();
  }

  @BeforeEach
  void startEnvironment() throws Exception {
    shop.resetTarget();
    store = new SnapshotStore(workDir.resolve("snapshots"));
    Databases databases = shop.databases(Map.of());
    PgTools tools = PgTools.locate(System.getenv());
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new SnapshotActivitiesImpl(databases, tools, store, HOST_QUEUE),
        new RestoreActivitiesImpl(databases, tools, store),
        new VerifyActivitiesImpl(databases));
  }

  @AfterEach
  void closeEnvironment() {
    env.close();
  }

  @Test
  void dumpRestoreVerify_copiesEveryTableRowAndSequence() throws Exception {
    Snapshot snapshot = dump();

    assertThat(snapshot.hostTaskQueue()).isEqualTo(HOST_QUEUE);
    assertThat(snapshot.tables()).isEqualTo(5);
    assertThat(snapshot.bytes()).isPositive();
    assertThat(Path.of(snapshot.directory())).startsWith(store.root()).isDirectory();

    RestoreResult restored = restore(snapshot);
    VerificationReport report = verify();

    assertThat(restored.tables()).isEqualTo(5);
    assertThat(report.mismatches()).isZero();
    assertThat(report.tables())
        .containsExactly(
            new TableComparison("billing.invoices", 16000, 16000, true),
            new TableComparison("public.customers", 5000, 5000, true),
            new TableComparison("public.order_items", 60000, 60000, true),
            new TableComparison("public.orders", 20000, 20000, true),
            new TableComparison("public.products", 500, 500, true));
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT last_value FROM billing.invoice_number_seq"))
        .isEqualTo(115999);
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM billing.revenue_by_country"))
        .isEqualTo(7);
  }

  @Test
  void restoreRunTwice_endsWithTheSameRowsNotDuplicates() throws Exception {
    Snapshot snapshot = dump();
    restore(snapshot);
    // What a crash midway leaves: some rows in, some not.
    TestCluster.TARGET.execute(shop.target, "DELETE FROM order_items WHERE order_id % 2 = 0");

    restore(snapshot);

    assertThat(verify().mismatches()).isZero();
  }

  @Test
  void dumpRetriedAfterItFinished_reusesTheDumpInsteadOfRedoingIt() throws Exception {
    Snapshot first = dump();
    Path marker = Path.of(first.directory()).resolve(SnapshotStore.COMPLETE_MARKER);
    FileTime written = Files.getLastModifiedTime(marker);

    Snapshot second = dump();

    assertThat(second).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(marker)).isEqualTo(written);
  }

  @Test
  void dumpRetriedAfterACrash_throwsAwayThePartialDumpAndStartsOver() throws Exception {
    Snapshot first = dump();
    Path dir = Path.of(first.directory());
    // A crash before the marker was written: the dump is partial, with a stray file in it.
    Files.delete(dir.resolve(SnapshotStore.COMPLETE_MARKER));
    Files.writeString(dir.resolve("stray.dat.gz"), "half a table");

    Snapshot again = dump();

    assertThat(Files.exists(dir.resolve("stray.dat.gz"))).isFalse();
    assertThat(again.tables()).isEqualTo(5);
    restore(again);
    assertThat(verify().mismatches()).isZero();
  }

  @Test
  void discardSnapshot_deletesItsFilesAndIsIdempotent() {
    Snapshot snapshot = dump();
    SnapshotActivities activities = env.newActivityStub(SnapshotActivities.class);

    activities.discardSnapshot(snapshot);
    activities.discardSnapshot(snapshot);

    assertThat(Path.of(snapshot.directory())).doesNotExist();
  }

  @Test
  void discardSnapshot_refusesAPathOutsideTheSnapshotRoot() throws Exception {
    Path precious = Files.createDirectories(workDir.resolve("precious"));
    SnapshotActivities activities = env.newActivityStub(SnapshotActivities.class);

    assertThatThrownBy(
            () -> activities.discardSnapshot(new Snapshot(HOST_QUEUE, precious.toString(), 0, 0)))
        .hasMessageContaining("is not a snapshot directory");
    assertThat(precious).exists();
  }

  @Test
  void verify_namesAMissingRowAnExtraRowAndAMissingTable() throws Exception {
    restore(dump());
    TestCluster.TARGET.execute(
        shop.target,
        "DELETE FROM order_items WHERE order_id = 42 AND line_no = 1",
        "INSERT INTO customers (email, full_name, country, created_at) VALUES ('x@example.com', 'X', 'US', now())",
        "DROP TABLE billing.invoices CASCADE");

    VerificationReport report = verify();

    assertThat(report.mismatches()).isEqualTo(3);
    assertThat(report.tables())
        .filteredOn(t -> !t.matches())
        .containsExactly(
            new TableComparison("billing.invoices", 16000, -1, false),
            new TableComparison("public.customers", 5000, 5001, false),
            new TableComparison("public.order_items", 60000, 59999, false));
  }

  @Test
  void verify_heartbeatsEachTableAndResumesAfterTheTablesItHadCompared() {
    restore(dump());
    List<Progress> beats = new ArrayList<>();
    env.setActivityHeartbeatListener(Progress.class, beats::add);
    // As if an earlier attempt had compared billing.invoices and then died. The recorded
    // figures are deliberately not the real ones: a resumed run must keep them, not recount.
    TableComparison earlier = new TableComparison("billing.invoices", 7, 7, true);
    env.setHeartbeatDetails(new Progress(1, 5, 0, "public.customers", List.of(earlier)));

    VerificationReport report = verify();

    assertThat(report.tables()).hasSize(5).contains(earlier);
    // The SDK throttles heartbeats, so only the first one is certain to reach the listener.
    assertThat(beats).first().satisfies(p -> {
      assertThat(p.tablesDone()).isEqualTo(1);
      assertThat(p.tablesTotal()).isEqualTo(5);
      assertThat(p.current()).isEqualTo("public.customers");
      assertThat(p.compared()).containsExactly(earlier);
    });
  }

  @Test
  void restoreThatMeetsAnError_stopsAndSaysWhichInsteadOfCarryingOn() throws Exception {
    Snapshot snapshot = dump();
    // --clean drops public.customers before creating it; a view in its place makes that fail.
    TestCluster.TARGET.execute(shop.target, "CREATE VIEW customers AS SELECT 1 AS id");

    assertThatThrownBy(() -> restore(snapshot))
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.RESTORE_FAILED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage())
                  .contains("pg_restore failed on target")
                  .contains("cannot be performed on relation \"customers\"")
                  .doesNotContain(TestCluster.PASSWORD);
            });
  }

  @Test
  void dumpOfAnUnreachableSource_isRetryableAndNamesTheSide() {
    TestActivityEnvironment unreachable = TestActivityEnvironment.newInstance();
    Databases databases =
        shop.databases(Map.of("FERRY_SOURCE_URL", "postgres://ferry:pw@127.0.0.1:1/shop"));
    unreachable.registerActivitiesImplementations(
        new SnapshotActivitiesImpl(databases, PgTools.locate(System.getenv()), store, HOST_QUEUE));
    try {
      SnapshotActivities activities = unreachable.newActivityStub(SnapshotActivities.class);
      assertThatThrownBy(() -> activities.dumpDatabase(new SnapshotRequest(snapshotKey, ShopDatabases.SOURCE_REF, 2)))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
                assertThat(f.isNonRetryable()).isFalse();
                assertThat(f.getOriginalMessage()).startsWith("source (env:FERRY_SOURCE_URL → ferry@127.0.0.1:1/shop)");
              });
    } finally {
      unreachable.close();
    }
  }

  private Snapshot dump() {
    return env.newActivityStub(SnapshotActivities.class)
        .dumpDatabase(new SnapshotRequest(snapshotKey, ShopDatabases.SOURCE_REF, 2));
  }

  private RestoreResult restore(Snapshot snapshot) {
    return env.newActivityStub(RestoreActivities.class)
        .restoreDatabase(new RestoreRequest("restore-" + snapshotKey, snapshot, ShopDatabases.TARGET_REF, 2));
  }

  private VerificationReport verify() {
    return env.newActivityStub(VerifyActivities.class).compareRowCounts(shop.references());
  }
}

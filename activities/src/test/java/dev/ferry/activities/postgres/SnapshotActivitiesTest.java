package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.database.Snapshot;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** pg_dump into the snapshot store, against the real source cluster. */
class SnapshotActivitiesTest extends ShopDatabaseTest {
  @Test
  void dump_writesEveryTableOnThisHostAndSaysWhere() {
    Snapshot snapshot = harness.dump();

    assertThat(snapshot.hostTaskQueue()).isEqualTo(Harness.HOST_QUEUE);
    assertThat(snapshot.tables()).isEqualTo(5);
    assertThat(snapshot.bytes()).isPositive();
    assertThat(Path.of(snapshot.directory())).startsWith(harness.store.root()).isDirectory();
  }

  @Test
  void dumpRetriedAfterItFinished_reusesTheDumpInsteadOfRedoingIt() throws Exception {
    Snapshot first = harness.dump();
    Path marker = Path.of(first.directory()).resolve(SnapshotStore.COMPLETE_MARKER);
    FileTime written = Files.getLastModifiedTime(marker);

    Snapshot second = harness.dump();

    assertThat(second).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(marker)).isEqualTo(written);
  }

  @Test
  void dumpRetriedAfterACrash_throwsAwayThePartialDumpAndStartsOver() throws Exception {
    Snapshot first = harness.dump();
    Path dir = Path.of(first.directory());
    // A crash before the marker was written: the dump is partial, with a stray file in it.
    Files.delete(dir.resolve(SnapshotStore.COMPLETE_MARKER));
    Files.writeString(dir.resolve("stray.dat.gz"), "half a table");

    Snapshot again = harness.dump();

    assertThat(Files.exists(dir.resolve("stray.dat.gz"))).isFalse();
    assertThat(again.tables()).isEqualTo(5);
  }

  @Test
  void dumpWhosePgDumpIsKilled_failsRetryableAndLeavesNoPartialDump() throws Exception {
    try (Connection locker = holdTableLock()) {
      Path dir = snapshotDirectory();
      CompletableFuture<Snapshot> dump = CompletableFuture.supplyAsync(harness::dump);

      runningPgDump(dir).destroyForcibly();

      assertThatThrownBy(dump::join)
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.TOOL_KILLED);
                assertThat(f.isNonRetryable()).isFalse();
                assertThat(f.getOriginalMessage()).contains("pg_dump on source", "killed by signal 9");
              });
      assertThat(dir).doesNotExist();
    }
  }

  @Test
  void cancelledDump_stopsPgDumpAndLeavesNoPartialDump() throws Exception {
    try (Connection locker = holdTableLock()) {
      Path dir = snapshotDirectory();
      CompletableFuture<Snapshot> dump = CompletableFuture.supplyAsync(harness::dump);
      runningPgDump(dir);

      harness.env.requestCancelActivity();

      assertThatThrownBy(dump::join).hasStackTraceContaining("Canceled");
      assertThat(Harness.toolWorkingOn(dir)).isEmpty();
      assertThat(dir).doesNotExist();
      Eventually.get(
          "the source to have no pg_dump session left",
          () -> sessionsOf("ferry-dump-" + Harness.WORKFLOW_ID),
          n -> n == 0);
    }
  }

  @Test
  void dumpRetried_endsAnOrphanedPgDumpOfTheSameRun() throws Exception {
    try (Connection orphan = TestCluster.SOURCE.connect(shop.source)) {
      try (Statement s = orphan.createStatement()) {
        s.execute("SET application_name = 'ferry-dump-" + Harness.WORKFLOW_ID + "'");
      }

      harness.dump();

      assertThat(orphan.isValid(5)).isFalse();
    }
  }

  @Test
  void discardSnapshot_deletesItsFilesAndIsIdempotent() {
    Snapshot snapshot = harness.dump();

    harness.snapshots().discardSnapshot(snapshot);
    harness.snapshots().discardSnapshot(snapshot);

    assertThat(Path.of(snapshot.directory())).doesNotExist();
  }

  @Test
  void discardSnapshot_refusesAPathOutsideTheSnapshotRoot() throws Exception {
    Path precious = Files.createDirectories(workDir.resolve("precious"));

    assertThatThrownBy(
            () -> harness.snapshots().discardSnapshot(new Snapshot(Harness.HOST_QUEUE, precious.toString(), 0, 0)))
        .hasMessageContaining("is not a snapshot directory");
    assertThat(precious).exists();
  }

  @Test
  void dumpOfAnUnreachableSource_isRetryableAndNamesTheSide() {
    try (Harness unreachable =
        new Harness(shop, workDir, Map.of("SHOP_SOURCE_URL", "postgres://ferry:pw@127.0.0.1:1/shop"))) {
      assertThatThrownBy(unreachable::dump)
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
                assertThat(f.isNonRetryable()).isFalse();
                assertThat(f.getOriginalMessage()).startsWith("source (env:SHOP_SOURCE_URL → ferry@127.0.0.1:1/shop)");
              });
    }
  }

  private Path snapshotDirectory() {
    return harness.store.directoryFor(Harness.WORKFLOW_ID, harness.snapshotKey);
  }

  /** The pg_dump writing into {@code dir}, once it has started. */
  private static ProcessHandle runningPgDump(Path dir) {
    return Eventually.get("pg_dump to start", () -> Harness.toolWorkingOn(dir), java.util.Optional::isPresent)
        .orElseThrow();
  }

  /** An open transaction holding a lock pg_dump must wait for: the dump stays alive until closed. */
  private static Connection holdTableLock() throws Exception {
    Connection c = TestCluster.SOURCE.connect(shop.source);
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE");
    }
    return c;
  }

  private static long sessionsOf(String applicationName) {
    try {
      return TestCluster.SOURCE.queryLong(
          "postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + applicationName + "'");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.runbook.SnapshotSpec;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trigger method's initial copy streamed ({@code snapshot.method: stream}), with an app
 * writing through the copy and the sync: capture first, then the copy from a snapshot taken
 * after it, then the capture keeps only what each table's copy did not see. Success is the
 * verify activity's: after freeze and drain both sides are identical, row for row — also when
 * the copy's snapshot was lost halfway and tables came from two snapshots (the foreign keys,
 * added at the end, hold: tables joined by them always come from one).
 */
class StreamedInitialCopyTest {
  /** Splits order_items (its first key column is an integer) into small key ranges. */
  static final CopyTuning CHUNKS = new CopyTuning(256L << 10, 512L << 10, 0, 64, Duration.ofMillis(50), 2);
  static final int LOCK = 4343;

  @TempDir Path workDir;
  MigrationDatabases shop;
  CopyHarness copy;
  SyncRequest request;
  TestActivityEnvironment env;
  TestActivityEnvironment applyEnv;
  Connection lockHolder;

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    copy = new CopyHarness(shop, workDir, CHUNKS, CopyRequest.CAPTURED, Map.of());
    request =
        new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.TRIGGER, 2, null, SnapshotSpec.STREAM);
    env = environment();
    applyEnv = environment();
  }

  private TestActivityEnvironment environment() {
    TestActivityEnvironment e = TestActivityEnvironment.newInstance();
    e.registerActivitiesImplementations(
        new SyncActivitiesImpl(copy.databases, new InitialCopy(copy.databases, copy.tools, workDir.resolve("sync"))),
        new FreezeActivitiesImpl(copy.databases),
        new SequenceActivitiesImpl(copy.databases),
        new VerifyActivitiesImpl(copy.databases));
    return e;
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      env.newActivityStub(SyncActivities.class).stopSync(request);
    } finally {
      if (lockHolder != null) {
        lockHolder.close();
      }
      env.close();
      applyEnv.close();
      copy.close();
      shop.close();
    }
  }

  @Test
  void writesThroughTheStreamedCopyAndTheSync_areAllOnTheTargetAfterFreezeAndDrain() throws Exception {
    SyncActivities sync = env.newActivityStub(SyncActivities.class);
    SyncSetup captured;
    SyncSetup adopted;
    CompletableFuture<Void> applying;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      captured = sync.startSync(request);
      // Retried, startSync keeps the capture it installed (and what it captured since).
      assertThat(sync.startSync(request)).isEqualTo(captured);
      // Copiers work while the app writes.
      copy.copyAll(2);
      writer.awaitMore(20);
      adopted = sync.adoptCopy(request, copy.key);
      assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT max(analyze_count) FROM pg_stat_user_tables WHERE schemaname = 'public'"))
          .as("the app's tables analyzed once, by the copy's finish, not again by the adoption").isOne();
      copy.worker().endCopy(copy.request(1));
      applying = CompletableFuture.runAsync(() -> applyEnv.newActivityStub(SyncActivities.class).applyChanges(request));
      writer.awaitMore(100);
      Eventually.get("the apply to catch up", () -> sync.measureLag(request), lag -> lag.pendingChanges() < 200);
    }

    VerificationReport report = freezeDrainAndVerify(applying);

    assertThat(captured.rows()).isZero();
    assertThat(captured.detail()).contains("the copy follows");
    assertThat(adopted.tables()).isEqualTo(6);
    assertThat(adopted.detail()).contains("6 tables streamed from 1 snapshot(s)");
    assertThat(report.problems()).isEmpty();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'")).isZero();
  }

  @Test
  void snapshotLostHalfway_tablesFromTwoSnapshots_eachTrimmedByItsOwn_endIdentical() throws Exception {
    SyncActivities sync = env.newActivityStub(SyncActivities.class);
    CompletableFuture<Void> applying;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      sync.startSync(request);
      CopyActivities control = copy.worker();
      CopyHarness.Running holder = copy.startHolder(1);
      control.planCopy(copy.request(1));
      holdOrderItemsAt(15000);
      CopyHarness.Running first = copy.startCopier(1, 1);
      CopyHarness.Running second = copy.startCopier(1, 2);
      Eventually.get(
          "a copier held in order_items, every other table checked",
          () -> query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = " + LOCK) * 1000
              + query("SELECT count(*) FROM $book.tables WHERE state <> 'checked'") * 10
              + query("SELECT count(*) FROM $book.chunks WHERE state <> 'copied'"),
          n -> n == 1011);
      writer.awaitMore(20);
      TestCluster.SOURCE.execute(
          shop.source,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-copy-"
              + CopyBook.tagOf(copy.key) + "-holder'");
      holder.awaitFailure();
      first.cancel();
      second.cancel();
      first.awaitFailure();
      second.awaitFailure();
      release();
      writer.awaitMore(20);

      CopyHarness.Running holder2 = copy.startHolder(2);
      CopyPlan plan = control.planCopy(copy.request(2));
      // order_items was copied in part; the tables joined to it by foreign keys (customers,
      // products, orders, invoices) start again with it; notes, joined to none, stands.
      assertThat(plan.kept()).isEqualTo(1);
      assertThat(plan.restarted()).isEqualTo(plan.tables() - 1);
      copy.runCopiers(2, 2);
      control.finishCopy(copy.request(2));
      holder2.cancel();
      holder2.awaitFailure();
      writer.awaitMore(20);
      SyncSetup adopted = sync.adoptCopy(request, copy.key);
      assertThat(adopted.detail()).contains("from 2 snapshot(s)");
      control.endCopy(copy.request(2));
      applying = CompletableFuture.runAsync(() -> applyEnv.newActivityStub(SyncActivities.class).applyChanges(request));
      writer.awaitMore(100);
      Eventually.get("the apply to catch up", () -> sync.measureLag(request), lag -> lag.pendingChanges() < 200);
    }

    assertThat(freezeDrainAndVerify(applying).problems()).isEmpty();
  }

  private VerificationReport freezeDrainAndVerify(CompletableFuture<Void> applying) {
    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    applyEnv.requestCancelActivity();
    assertThatThrownBy(applying::join).hasStackTraceContaining("Cancel");
    SyncLag drained = env.newActivityStub(SyncActivities.class).drain(request);
    assertThat(drained.pendingChanges()).isZero();
    env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    return env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));
  }

  private long query(String sql) {
    try {
      return TestCluster.TARGET.queryLong(shop.target, sql.replace("$book", copy.schema()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void holdOrderItemsAt(long orderId) throws Exception {
    lockHolder = TestCluster.TARGET.connect(shop.target);
    try (Statement s = lockHolder.createStatement()) {
      s.execute("SELECT pg_advisory_lock(" + LOCK + ")");
      s.execute(
          "CREATE FUNCTION public.hold_here() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
              + " IF NEW.order_id = " + orderId + " THEN PERFORM pg_advisory_xact_lock(" + LOCK + "); END IF; RETURN NEW; END $f$");
      s.execute("CREATE TRIGGER hold_here BEFORE INSERT ON public.order_items FOR EACH ROW EXECUTE FUNCTION public.hold_here()");
    }
  }

  private void release() throws Exception {
    try (Statement s = lockHolder.createStatement()) {
      s.execute("DROP TRIGGER hold_here ON public.order_items");
      s.execute("DROP FUNCTION public.hold_here()");
      s.execute("SELECT pg_advisory_unlock(" + LOCK + ")");
    }
  }
}

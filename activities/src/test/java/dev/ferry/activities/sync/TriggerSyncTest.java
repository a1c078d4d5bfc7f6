package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.Drained;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.AppRole;
import dev.ferry.testing.postgres.LargeObjectScenario;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trigger method against the real clusters, with an app writing through the initial copy
 * and the sync. The measure of success is the verify activity's: after freeze and drain, both
 * sides are identical, row for row.
 */
@Timeout(180)
class TriggerSyncTest {
  @TempDir Path workDir;
  private MigrationDatabases shop;
  private Databases databases;
  /** One environment per concurrently running activity: apply runs while the test does more. */
  private TestActivityEnvironment env;
  private TestActivityEnvironment applyEnv;
  private SyncRequest request;

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    databases = shop.databases(Map.of());
    env = environment();
    applyEnv = environment();
    request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.TRIGGER, 2, null);
  }

  private TestActivityEnvironment environment() {
    return environment(TriggerSync.BATCH);
  }

  private TestActivityEnvironment environment(int batch) {
    return environment(databases, batch);
  }

  private TestActivityEnvironment environment(Databases databases, int batch) {
    TestActivityEnvironment e = TestActivityEnvironment.newInstance();
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    e.registerActivitiesImplementations(
        new SyncActivitiesImpl(
            databases, new TriggerSync(databases, copy, dev.ferry.activities.Pause.SLEEP, batch), new LogicalSync(databases, copy)),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        new VerifyActivitiesImpl(databases));
    return e;
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      sync(env).stopSync(request);
    } finally {
      env.close();
      applyEnv.close();
      shop.close();
    }
  }

  private static SyncActivities sync(TestActivityEnvironment e) {
    return e.newActivityStub(SyncActivities.class);
  }

  private CompletableFuture<Void> startApplying() {
    return CompletableFuture.runAsync(() -> sync(applyEnv).applyChanges(request));
  }

  /** Cancels the background apply as the workflow does before the drain. */
  private void stopApplying(CompletableFuture<Void> applying) {
    applyEnv.requestCancelActivity();
    assertThatThrownBy(applying::join).hasStackTraceContaining("Cancel");
  }

  private VerificationReport freezeDrainAndVerify(CompletableFuture<Void> applying) {
    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    stopApplying(applying);
    SyncLag drained = sync(env).drain(request);
    assertThat(drained.pendingChanges()).isZero();
    env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    return env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));
  }

  @Test
  void writesThroughCopyAndSync_areAllOnTheTargetAfterFreezeAndDrain() throws Exception {
    SyncSetup setup;
    CompletableFuture<Void> applying;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      setup = sync(env).startSync(request);
      applying = startApplying();
      writer.awaitMore(100);
      writer.truncateNotes();
      writer.awaitMore(100);
      Eventually.get("the apply to catch up", () -> sync(env).measureLag(request), lag -> lag.pendingChanges() < 200);
      writer.awaitMore(50);
    }

    VerificationReport report = freezeDrainAndVerify(applying);

    assertThat(setup.tables()).isEqualTo(6);
    assertThat(setup.detail()).contains("trigger capture on 6 tables");
    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    // The copy carried no capture trigger to the target.
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'")).isZero();
  }

  @Test
  void drainWithSequences_setsTheSequencesOnItsOwnSessions_andARetrySetsNothingMore() throws Exception {
    sync(env).startSync(request);
    CompletableFuture<Void> applying = startApplying();
    // Sequences move on after the initial copy (which carried their values then).
    TestCluster.SOURCE.execute(
        shop.source,
        "SELECT nextval('billing.invoice_number_seq') FROM generate_series(1, 5)",
        "SELECT setval('public.orders_id_seq', 9000000)");
    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    stopApplying(applying);

    Drained drained = sync(env).drainWithSequences(request);
    // A drain retried after a crash (its result lost) sets nothing more.
    Drained again = sync(env).drainWithSequences(request);

    assertThat(drained.lag().pendingChanges()).isZero();
    assertThat(drained.sequences().set()).isEqualTo(2);
    assertThat(drained.sequences().aheadOnTarget()).isEmpty();
    assertThat(again.sequences().set()).isZero();
    assertThat(again.sequences().alreadyCurrent()).isEqualTo(drained.sequences().set() + drained.sequences().alreadyCurrent());
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT last_value FROM public.orders_id_seq")).isEqualTo(9000000);
    VerificationReport report = env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));
    assertThat(report.mismatches()).isZero();
    assertThat(report.sequences()).isNotEmpty().allSatisfy(seq -> assertThat(seq.matches()).isTrue());
  }

  @Test
  void drainWithSequences_whenTheTargetLacksOne_failsFinallyNamingIt() throws Exception {
    sync(env).startSync(request);
    TestCluster.TARGET.execute(shop.target, "ALTER TABLE billing.invoices ALTER number DROP DEFAULT", "DROP SEQUENCE billing.invoice_number_seq");
    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);

    assertThatThrownBy(() -> sync(env).drainWithSequences(request))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SEQUENCE_MISSING);
          assertThat(f.getOriginalMessage()).contains("billing.invoice_number_seq");
        });
  }

  @Test
  void largeObjectsCreatedChangedAndRemovedDuringTheSync_areExactAfterTheDrain_withoutCopyingTheUnchangedAgain()
      throws Exception {
    LargeObjectScenario objects = LargeObjectScenario.before(shop.source, 200);
    sync(env).startSync(request);
    // The initial copy is a pg_dump: it carried them.
    objects.assertSameOn(shop.target);
    Map<Long, String> beforeTheDrain = LargeObjectScenario.writtenBy(shop.target);
    CompletableFuture<Void> applying = startApplying();
    objects.duringSync();

    VerificationReport report = freezeDrainAndVerify(applying);
    // A drain retried after a crash (its result lost) gives the same result.
    sync(env).drain(request);

    objects.assertCarried(shop.target, report, 204, beforeTheDrain);
  }

  @Test
  void applyKilledMidway_andStartedAgain_stillEndsIdentical() throws Exception {
    CompletableFuture<Void> applying;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      sync(env).startSync(request);
      writer.awaitMore(50);
      CompletableFuture<Void> first = startApplying();
      writer.awaitMore(50);
      // The worker dies: its sessions go with it, mid-batch or between batches.
      Eventually.get("the applier's sessions", () -> applierSessions(), n -> n > 0);
      terminateApplier();
      assertThatThrownBy(first::join).rootCause().isInstanceOf(ApplicationFailure.class);
      writer.awaitMore(50);
      applying = startApplying();
      writer.awaitMore(50);
    }

    VerificationReport report = freezeDrainAndVerify(applying);

    assertThat(report.problems()).isEmpty();
  }

  @Test
  void aUniqueValueMovingBetweenRowsAcrossABatchEdge_isAppliedWithoutACollision() throws Exception {
    TestCluster.SOURCE.execute(
        shop.source,
        "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE, visits int NOT NULL DEFAULT 0)",
        "INSERT INTO accounts VALUES (1, 'x@example.com'), (2, 'a@example.com')");
    sync(env).startSync(request);
    // One change a batch: row 1's first change is applied alone, read as it is now (holding
    // row 2's old email), while row 2's change waits in the next batch.
    TestCluster.SOURCE.execute(shop.source, "UPDATE accounts SET visits = visits + 1 WHERE id = 1");
    TestCluster.SOURCE.execute(shop.source, "UPDATE accounts SET email = 'c@example.com' WHERE id = 2");
    TestCluster.SOURCE.execute(shop.source, "UPDATE accounts SET email = 'a@example.com' WHERE id = 1");

    TestActivityEnvironment oneByOne = environment(1);
    try {
      assertThat(sync(oneByOne).drain(request).pendingChanges()).isZero();
    } finally {
      oneByOne.close();
    }

    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM accounts WHERE id = 1 AND email = 'a@example.com'")).isOne();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM accounts WHERE id = 2 AND email = 'c@example.com'")).isOne();
  }

  @Test
  void keysWrittenUnderAnotherDateStyle_areReadBackAsTheSameDays() throws Exception {
    TestCluster.SOURCE.execute(
        shop.source,
        "CREATE TABLE daily (day date PRIMARY KEY, visits int NOT NULL)",
        "INSERT INTO daily SELECT d::date, 0 FROM generate_series(date '2024-01-01', date '2024-03-01', interval '1 day') d");
    sync(env).startSync(request);
    // 01/02/2024 is the 1st of February in this session, the 2nd of January in an ISO one. (psql:
    // the JDBC driver refuses a DateStyle other than ISO.)
    Path script = workDir.resolve("app.sql");
    java.nio.file.Files.writeString(
        script, "\\set ON_ERROR_STOP on\nSET DateStyle = 'SQL, DMY';\nUPDATE daily SET visits = 7 WHERE day = '01/02/2024';\n");
    TestCluster.SOURCE.runPsql(shop.source, script);

    sync(env).drain(request);

    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT visits FROM daily WHERE day = '2024-02-01'")).isEqualTo(7);
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT visits FROM daily WHERE day = '2024-01-02'")).isZero();
  }

  @Test
  void drain_waitsForATransactionThatWroteBeforeItBegan_andAppliesItsCommit() throws Exception {
    sync(env).startSync(request);
    try (java.sql.Connection app = TestCluster.SOURCE.connect(shop.source)) {
      app.setAutoCommit(false);
      try (java.sql.Statement st = app.createStatement()) {
        st.execute("UPDATE products SET stock = 4242 WHERE id = 7");
      }
      CompletableFuture<SyncLag> draining = CompletableFuture.supplyAsync(() -> sync(env).drain(request));
      Eventually.get(
          "the drain to wait for the open transaction",
          () -> {
            try {
              return TestCluster.SOURCE.queryLong(
                  shop.source,
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry-sync-apply%' AND query LIKE '%pg_snapshot_xmin%'");
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          },
          n -> n > 0 || draining.isDone());
      assertThat(draining).as("the drain returned with the transaction still open").isNotDone();
      app.commit();

      assertThat(draining.join().pendingChanges()).isZero();
    }
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT stock FROM products WHERE id = 7")).isEqualTo(4242);
  }

  @Test
  void onAHerokuLikeSource_theWriteFenceRefusesTheApp_capturesNothing_andTheDrainVerifyAndTeardownStillWork() throws Exception {
    // As on Heroku: the app and Ferry are one role, owner of the tables and no superuser, so the
    // fence has no event trigger. The capture (AFTER ROW) and the fence (BEFORE STATEMENT) share
    // the tables.
    AppRole app = AppRole.owning(TestCluster.SOURCE, shop.source);
    TestActivityEnvironment asApp =
        environment(shop.databases(Map.of("SHOP_SOURCE_URL", app.url(shop.source))), TriggerSync.BATCH);
    try {
      sync(asApp).startSync(request);
      try (java.sql.Connection c = app.connect(shop.source); java.sql.Statement st = c.createStatement()) {
        st.execute("UPDATE products SET stock = 777 WHERE id = 3");
      }
      asApp.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
      long captured = capturedChanges();

      try (java.sql.Connection c = app.connect(shop.source); java.sql.Statement st = c.createStatement()) {
        st.execute("SET default_transaction_read_only = off");
        assertThatThrownBy(() -> st.execute("UPDATE products SET stock = 0 WHERE id = 3"))
            .hasMessageContaining("write fence");
        assertThatThrownBy(() -> st.execute("TRUNCATE notes")).hasMessageContaining("write fence");
      }
      assertThat(capturedChanges()).as("a refused write captures nothing").isEqualTo(captured);

      SyncLag drained = sync(asApp).drain(request);
      asApp.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
      VerificationReport report = asApp.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));

      assertThat(drained.pendingChanges()).isZero();
      assertThat(report.problems()).isEmpty();
      assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT stock FROM products WHERE id = 3")).isEqualTo(777);

      // DDL is not refused without an event trigger: a drain after it names the new table.
      try (java.sql.Connection c = app.connect(shop.source); java.sql.Statement st = c.createStatement()) {
        st.execute("SET default_transaction_read_only = off");
        st.execute("CREATE TABLE public.sneaky (id int PRIMARY KEY)");
        st.execute("INSERT INTO public.sneaky VALUES (1)");
      }
      assertThatThrownBy(() -> sync(asApp).drain(request))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
            assertThat(f.getType()).isEqualTo(Errors.SCHEMA_CHANGED);
            assertThat(f.getOriginalMessage()).contains("new: table public.sneaky");
          });

      // Teardown while frozen (decommission), then the unfreeze: nothing of either is left.
      sync(asApp).stopSync(request);
      asApp.newActivityStub(FreezeActivities.class).unfreezeSource(MigrationDatabases.SOURCE_REF);
      assertNothingLeftOnTheSource();
    } finally {
      asApp.close();
      app.handBackAndDrop(shop.source);
    }
  }

  private long capturedChanges() throws Exception {
    String schema = new SyncSession(request, null, null, "test-workflow-id").schema();
    return TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM " + schema + ".changes");
  }

  @Test
  void startRetriedAfterSuccess_returnsTheSameSetupWithoutCopyingAgain() {
    SyncSetup first = sync(env).startSync(request);
    SyncSetup again = sync(env).startSync(request);

    assertThat(again).isEqualTo(first);
  }

  @Test
  void schemaChangedWhileSyncing_stopsTheApplyNamingTheChange() throws Exception {
    sync(env).startSync(request);
    TestCluster.SOURCE.execute(shop.source, "ALTER TABLE orders ADD COLUMN gift boolean");

    assertThatThrownBy(() -> sync(applyEnv).applyChanges(request))
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SCHEMA_CHANGED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage()).contains("new: column public.orders.gift boolean");
            });
    assertThatThrownBy(() -> sync(env).drain(request))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SCHEMA_CHANGED));
  }

  @Test
  void drainWhileTheSourceStillTakesWrites_failsSourceNotFrozen() throws Exception {
    sync(env).startSync(request);
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      assertThatThrownBy(() -> sync(env).drain(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SOURCE_NOT_FROZEN);
                assertThat(f.getOriginalMessage()).contains("written after the drain began");
              });
    }
  }

  @Test
  void drainMeetingChangesWrittenAfterItBegan_stopsAtTheFirstSuchBatch_insteadOfChasingThem() throws Exception {
    TestCluster.SOURCE.execute(shop.source, "CREATE TABLE late_rows (id int PRIMARY KEY)");
    sync(env).startSync(request);
    TestCluster.SOURCE.execute(shop.source, "INSERT INTO late_rows SELECT generate_series(1, 5)");
    // Five changes, each as if written an hour after the drain began (an app still writing).
    String schema = new SyncSession(request, null, null, "test-workflow-id").schema();
    TestCluster.SOURCE.execute(shop.source, "UPDATE " + schema + ".changes SET at = clock_timestamp() + interval '1 hour'");

    TestActivityEnvironment twoByTwo = environment(2);
    try {
      assertThatThrownBy(() -> sync(twoByTwo).drain(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SOURCE_NOT_FROZEN);
                // Its first batch of two, not all five: it stopped there.
                assertThat(f.getOriginalMessage()).contains(": 2 changes were written after the drain began");
              });
    } finally {
      twoByTwo.close();
    }
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM late_rows")).isEqualTo(2);
  }

  @Test
  void tableWithoutPrimaryKey_isRefusedByName_andNothingIsInstalled() throws Exception {
    TestCluster.SOURCE.execute(shop.source, "CREATE TABLE audit_log (at timestamptz, line text)", "INSERT INTO audit_log VALUES (now(), 'x')");

    assertThatThrownBy(() -> sync(env).startSync(request))
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
              assertThat(f.getOriginalMessage()).contains("public.audit_log");
            });
    assertNothingLeftOnTheSource();
  }

  @Test
  void teardown_afterAStartThatFailedMidway_andAfterACompleteSync_leavesNothing() throws Exception {
    // The target is not empty: the restore refuses after the capture was installed.
    TestCluster.TARGET.execute(shop.target, "CREATE TABLE someone_elses (id int)");
    assertThatThrownBy(() -> sync(env).startSync(request))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.TARGET_NOT_EMPTY));
    sync(env).stopSync(request);
    assertNothingLeftOnTheSource();

    shop.resetTarget();
    sync(env).startSync(request);
    sync(env).stopSync(request);
    sync(env).stopSync(request);
    assertNothingLeftOnTheSource();
  }

  private void assertNothingLeftOnTheSource() throws Exception {
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'"))
        .as("capture triggers").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry%'"))
        .as("Ferry schemas").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'capture%'"))
        .as("capture functions").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
        .as("replication slots").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_publication")).as("publications").isZero();
  }

  private long applierSessions() {
    try {
      return TestCluster.SOURCE.queryLong(
          shop.source, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry-sync-apply%'");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void terminateApplier() throws Exception {
    for (TestCluster cluster : new TestCluster[] {TestCluster.SOURCE, TestCluster.TARGET}) {
      String db = cluster == TestCluster.SOURCE ? shop.source : shop.target;
      cluster.queryLong(
          db,
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'ferry-sync-apply%'");
    }
  }
}

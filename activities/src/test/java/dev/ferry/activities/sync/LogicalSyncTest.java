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
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logical method against the real clusters ("heroku" on 5433 has wal_level logical and
 * plays a source that allows replication; "rds" on 5434 has wal_level replica and plays one that
 * does not), with an app writing through the subscription's initial copy and the sync. Success
 * is the verify activity's: after freeze and drain, both sides identical, row for row; and after
 * teardown, no slot, publication, subscription or Ferry schema on either side.
 */
@Timeout(180)
class LogicalSyncTest {
  /** Short looks, so the tests wait for conditions rather than for ticks. */
  private static final LogicalTiming TIMING = new LogicalTiming(Duration.ofMillis(100), 5, Duration.ofMillis(1500), Duration.ofSeconds(3), 100);

  private LogicalTiming timing = TIMING;
  @TempDir Path workDir;
  private MigrationDatabases shop;
  private Databases databases;
  private final List<TestActivityEnvironment> environments = new ArrayList<>();
  private TestActivityEnvironment env;
  private SyncRequest request;
  /** Runs after the schema copy's pre-data restore, before the subscription exists. */
  private Consumer<MigrationDatabases> afterPreData = dbs -> {};

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    databases = shop.databases(Map.of());
    env = environment(databases);
    request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.LOGICAL, 2);
  }

  /** A worker's activities; one environment per activity cancelled on its own. */
  private TestActivityEnvironment environment(Databases dbs) {
    TestActivityEnvironment e = TestActivityEnvironment.newInstance();
    InitialCopy initialCopy = new InitialCopy(dbs, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    LogicalSchemaCopy real = LogicalSchemaCopy.of(initialCopy);
    LogicalSchemaCopy copy =
        new LogicalSchemaCopy() {
          @Override
          public Path dump(SyncSession session) {
            return real.dump(session);
          }

          @Override
          public void restore(SyncSession session, Path dump, String section) {
            real.restore(session, dump, section);
            if (section.equals(InitialCopy.PRE_DATA)) {
              afterPreData.accept(shop);
            }
          }

          @Override
          public void discard(Path dump) {
            real.discard(dump);
          }
        };
    e.registerActivitiesImplementations(
        new SyncActivitiesImpl(dbs, new TriggerSync(dbs, initialCopy), new LogicalSync(dbs, copy, timing)),
        new FreezeActivitiesImpl(dbs),
        new SequenceActivitiesImpl(dbs),
        new VerifyActivitiesImpl(dbs));
    environments.add(e);
    return e;
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      sync(environment(databases)).stopSync(request);
    } finally {
      environments.forEach(TestActivityEnvironment::close);
      shop.close();
    }
  }

  private static SyncActivities sync(TestActivityEnvironment e) {
    return e.newActivityStub(SyncActivities.class);
  }

  /** Applies in the background, in an environment of its own (a cancel there stays there). */
  private Applying startApplying() {
    TestActivityEnvironment own = environment(databases);
    return new Applying(own, CompletableFuture.runAsync(() -> sync(own).applyChanges(request)));
  }

  private record Applying(TestActivityEnvironment env, CompletableFuture<Void> done) {
    /** Cancels it as the workflow does before the drain. */
    void cancel() {
      env.requestCancelActivity();
      assertThatThrownBy(done::join).hasStackTraceContaining("Cancel");
    }
  }

  @Test
  void writesThroughCopyAndSync_withApplyCancelledAndTheSubscriberKilledMidway_areIdenticalAfterFreezeAndDrain()
      throws Exception {
    SyncSetup setup;
    Applying applying;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      setup = sync(env).startSync(request);
      Applying first = startApplying();
      writer.awaitMore(50);
      // The workflow's apply activity stops (a worker restart), and so does PostgreSQL's apply
      // worker (killed); both come back and carry on where the slot says.
      first.cancel();
      killSubscriptionWorkers();
      writer.truncateNotes();
      writer.awaitMore(50);
      applying = startApplying();
      writer.awaitMore(50);
      SyncLag lag = sync(env).measureLag(request);
      assertThat(lag.pendingChanges()).isEqualTo(-1);
      assertThat(lag.lagBytes()).isNotNegative();
      assertThat(lag.lagMillis()).isNotNegative().isLessThan(60_000);
    }

    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    // Frozen: a client that lifts read-only is refused by the write fence; the publication
    // carries on (the drain confirms everything), and the teardown passes the fence's event trigger.
    assertThatThrownBy(() -> TestCluster.SOURCE.execute(shop.source,
            "SET default_transaction_read_only = off", "UPDATE products SET stock = stock + 1 WHERE id = 1"))
        .hasMessageContaining("write fence");
    applying.cancel();
    SyncLag drained = sync(env).drain(request);
    env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    VerificationReport report = env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));

    assertThat(setup.tables()).isEqualTo(6);
    assertThat(setup.detail()).contains(session().publication(), session().subscription(), session().slot());
    assertThat(drained.lagBytes()).isZero();
    assertThat(drained.lagMillis()).isZero();
    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ferry%'"))
        .as("temporary keys gone once the real ones were built").isZero();

    // Torn down while frozen (as at decommission), then unfrozen: nothing of either is left.
    sync(env).stopSync(request);
    sync(env).stopSync(request);
    env.newActivityStub(FreezeActivities.class).unfreezeSource(MigrationDatabases.SOURCE_REF);
    assertNothingLeft();
  }

  /** One sync's life through what stops it: a drain on a source still written, then DDL. */
  @Test
  void startRetried_reusesItsObjects_thenAWrittenSourceFailsTheDrain_andDdlFailsTheApplyAndTheDrain() throws Exception {
    SyncSetup first = sync(env).startSync(request);
    SyncSetup again = sync(env).startSync(request);
    assertThat(again.tables()).isEqualTo(first.tables());
    assertThat(again.detail()).isEqualTo(first.detail());
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
        .isEqualTo(1);

    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      assertThatThrownBy(() -> sync(env).drain(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SOURCE_NOT_FROZEN);
                assertThat(f.isNonRetryable()).isTrue();
                assertThat(f.getOriginalMessage()).contains("the source is not frozen");
              });
    }

    Applying applying = startApplying();
    Eventually.get("the subscription to be applying", this::subscriptionHasWorker, running -> running);
    TestCluster.SOURCE.execute(shop.source, "ALTER TABLE orders ADD COLUMN gift boolean");

    assertThatThrownBy(applying.done()::join)
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
  void rowThatConflictsOnTheTarget_stopsTheApplyAsStuck_notRetriedForever() throws Exception {
    timing = new LogicalTiming(Duration.ofMillis(100), 1, Duration.ofMillis(1500), Duration.ofSeconds(3), 100);
    sync(env).startSync(request);
    TestActivityEnvironment own = environment(databases);
    java.util.concurrent.atomic.AtomicInteger beats = new java.util.concurrent.atomic.AtomicInteger();
    own.setActivityHeartbeatListener(SyncLag.class, lag -> beats.incrementAndGet());
    CompletableFuture<Void> applying = CompletableFuture.runAsync(() -> sync(own).applyChanges(request));
    Eventually.get("the apply to watch", beats::get, n -> n > 0);

    TestCluster.TARGET.execute(shop.target, "INSERT INTO notes VALUES ('clash', 1, 'already on the target')");
    TestCluster.SOURCE.execute(shop.source, "INSERT INTO notes VALUES ('clash', 2, 'from the app')");

    assertThatThrownBy(applying::join)
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage())
                  .contains(session().subscription(), "without progress", "server log", "conflicts with one already on the target");
            });
  }

  @Test
  void startCancelledWhileATableIsBeingCopied_isTornDownLeavingNothingOnEitherSide() throws Exception {
    // notes is published with every column as its key (no temporary key needed on the target)
    // and locked on the target against writes (not reads: the subscription must be created), so
    // its copy cannot begin: a start stuck midway, with the subscription's workers running.
    TestCluster.SOURCE.execute(shop.source, "ALTER TABLE notes REPLICA IDENTITY FULL", "INSERT INTO notes VALUES ('a', 1, 'x')");
    Connection locker = TestCluster.TARGET.connect(shop.target);
    afterPreData =
        dbs -> {
          try {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
              s.execute("LOCK TABLE public.notes IN SHARE MODE");
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    try {
      TestActivityEnvironment starting = environment(databases);
      CompletableFuture<SyncSetup> start = CompletableFuture.supplyAsync(() -> sync(starting).startSync(request));
      Eventually.get("notes to be copying", () -> copyState("notes"), "d"::equals);

      starting.requestCancelActivity();
      assertThatThrownBy(start::join).hasStackTraceContaining("Cancel");
      sync(env).stopSync(request);
    } finally {
      locker.close();
    }

    assertNothingLeft();
  }

  @Test
  void sourceWithoutLogicalWalLevel_isRefusedBeforeAnythingIsInstalled() throws Exception {
    String replicaOnly = TestCluster.uniqueDatabaseName("replica");
    TestCluster.TARGET.createDatabase(replicaOnly);
    try {
      TestActivityEnvironment e = environment(shop.databases(Map.of("SHOP_SOURCE_URL", TestCluster.TARGET.url(replicaOnly))));

      assertThatThrownBy(() -> sync(e).startSync(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
                assertThat(f.isNonRetryable()).isTrue();
                assertThat(f.getOriginalMessage()).contains("source (", "wal_level is replica, not logical");
              });
      assertNothingLeft();
    } finally {
      TestCluster.TARGET.dropDatabase(replicaOnly);
    }
  }

  @Test
  void roleWithoutReplicationPrivilege_andTableWithoutKey_areRefusedTogether_withoutThePassword() throws Exception {
    String role = TestCluster.uniqueDatabaseName("app");
    String password = "pw-" + UUID.randomUUID();
    TestCluster.SOURCE.execute("postgres", "CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
    TestCluster.SOURCE.execute(shop.source, "CREATE TABLE audit_log (at timestamptz, line text)");
    try {
      String url = TestCluster.SOURCE.urlWithPassword(shop.source, password).replace(TestCluster.USER + ":", role + ":");
      TestActivityEnvironment e = environment(shop.databases(Map.of("SHOP_SOURCE_URL", url)));

      assertThatThrownBy(() -> sync(e).startSync(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
                assertThat(f.getOriginalMessage())
                    .contains("has no REPLICATION privilege", "public.audit_log")
                    .doesNotContain(password);
              });
      assertNothingLeft();
    } finally {
      TestCluster.SOURCE.execute("postgres", "DROP ROLE " + role);
    }
  }

  // --- Helpers ----------------------------------------------------------------------------

  private SyncSession session() {
    return new SyncSession(request, null, null, "test-workflow-id");
  }

  /** Nothing of any sync on either side: what an orphan would be found by. */
  private void assertNothingLeft() throws Exception {
    assertThat(TestCluster.SOURCE.queryLong(
            shop.source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
        .as("replication slots on the source").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_publication")).as("publications").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'"))
        .as("triggers on the source").isZero();
    assertThat(TestCluster.TARGET.queryLong(
            shop.target,
            "SELECT count(*) FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        .as("subscriptions on the target").isZero();
    assertThat(TestCluster.TARGET.queryLong(
            shop.target,
            "SELECT count(*) FROM pg_replication_origin o WHERE roname ~ '^pg_[0-9]+'"
                + " AND NOT EXISTS (SELECT 1 FROM pg_subscription s WHERE s.oid = (regexp_match(o.roname, '^pg_([0-9]+)'))[1]::oid)"))
        .as("replication origins of a subscription that is gone, on the target").isZero();
    for (TestCluster cluster : new TestCluster[] {TestCluster.SOURCE, TestCluster.TARGET}) {
      String db = cluster == TestCluster.SOURCE ? shop.source : shop.target;
      // Not ferry_restore_claim: a start that failed before its post-data restore leaves the
      // target claimed by this run, as a failed single-phase restore does (a new run is told to
      // recreate the target rather than have it dropped under it).
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry%' AND nspname <> 'ferry_restore_claim'"))
          .as("Ferry schemas on " + cluster.name()).isZero();
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ferry%'"))
          .as("Ferry indexes on " + cluster.name()).isZero();
    }
  }

  private String copyState(String table) {
    try (Connection c = TestCluster.TARGET.connect(shop.target);
        Statement s = c.createStatement();
        var rs = s.executeQuery(
            "SELECT sr.srsubstate FROM pg_subscription_rel sr WHERE sr.srrelid = 'public." + table + "'::regclass")) {
      return rs.next() ? rs.getString(1) : null;
    } catch (Exception e) {
      return null;
    }
  }

  private boolean subscriptionHasWorker() {
    try {
      return TestCluster.TARGET.queryLong(
              shop.target,
              "SELECT count(*) FROM pg_stat_subscription WHERE subname = '" + session().subscription() + "' AND pid IS NOT NULL")
          > 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** Ends the subscription's apply worker on the target, as a crash would; PostgreSQL restarts it. */
  private void killSubscriptionWorkers() throws Exception {
    Eventually.get("the subscription's apply worker", this::subscriptionHasWorker, running -> running);
    TestCluster.TARGET.queryLong(
        shop.target,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_subscription WHERE subname = '" + session().subscription() + "'");
  }
}

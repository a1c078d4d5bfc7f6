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
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.LargeObjectScenario;
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
  private static final LogicalTiming TIMING = new LogicalTiming(Duration.ofMillis(100), 5, Duration.ofMillis(1500), Duration.ofSeconds(3), 100, Duration.ofSeconds(20));

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
    request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.LOGICAL, 2, SyncSpec.PER_RUN_ROLE);
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
    timing = new LogicalTiming(Duration.ofMillis(100), 1, Duration.ofMillis(1500), Duration.ofSeconds(3), 100, Duration.ofSeconds(20));
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
      assertThat(sourceText("SELECT count(*) FROM pg_roles WHERE rolname = '" + session().replicationRole() + "'"))
          .as("the run's role, made before the subscription").isEqualTo("1");

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

  @Test
  void largeObjectsCreatedChangedAndRemovedDuringTheSync_areExactAfterTheDrain_withoutCopyingTheUnchangedAgain()
      throws Exception {
    LargeObjectScenario objects = LargeObjectScenario.before(shop.source, 200);
    sync(env).startSync(request);
    // The subscription copies tables only, and the schema copy holds none: setup brought them.
    objects.assertSameOn(shop.target);
    Map<Long, String> beforeTheDrain = LargeObjectScenario.writtenBy(shop.target);
    Applying applying = startApplying();
    objects.duringSync();

    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    applying.cancel();
    sync(env).drain(request);
    // A drain retried after a crash (its result lost) gives the same result.
    sync(env).drain(request);
    env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    VerificationReport report = env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));

    objects.assertCarried(shop.target, report, 204, beforeTheDrain);
  }

  @Test
  void theRunsRole_mayReplicateAndReadThePublishedTables_andNothingElse() throws Exception {
    TestCluster.SOURCE.execute(
        shop.source, "CREATE VIEW order_ids AS SELECT id FROM orders", "SELECT lo_from_bytea(0, convert_to('private', 'UTF8'))");
    sync(env).startSync(request);
    String role = session().replicationRole();

    assertThat(sourceText("SELECT concat_ws(',', rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolcanlogin)"
            + " FROM pg_roles WHERE rolname = '" + role + "'"))
        .as("superuser, createrole, createdb, bypassrls, replication, login").isEqualTo("f,f,f,f,t,t");
    assertThat(sourceText("SELECT count(*) FROM pg_auth_members WHERE member = '" + role + "'::regrole")).as("member of").isEqualTo("0");
    // Without grant option: it cannot hand them on.
    assertThat(sourceText("SELECT string_agg(table_schema || '.' || table_name || ':' || privilege_type"
            + "   || CASE WHEN is_grantable = 'YES' THEN '+grant' ELSE '' END, ' ' ORDER BY table_schema, table_name)"
            + " FROM information_schema.role_table_grants WHERE grantee = '" + role + "'"))
        .isEqualTo("billing.invoices:SELECT public.customers:SELECT public.notes:SELECT public.order_items:SELECT"
            + " public.orders:SELECT public.products:SELECT");
    assertThat(sourceText("SELECT string_agg(n.nspname || ':' || a.privilege_type, ' ' ORDER BY n.nspname)"
            + " FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = '" + role + "'::regrole"))
        .as("public: everyone has USAGE already").isEqualTo("billing:USAGE");
    assertThat(sourceText("SELECT (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = '" + role + "'::regrole"
            + "   AND c.relkind <> 'r')"
            + " + (SELECT count(*) FROM pg_largeobject_metadata m, aclexplode(m.lomacl) a WHERE a.grantee = '" + role + "'::regrole)"
            + " + (SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a WHERE a.grantee = '" + role + "'::regrole)"
            + " + (SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a WHERE a.grantee = '" + role + "'::regrole)"))
        .as("grants on anything else").isEqualTo("0");

    // Logged in as the role (with a password the test gives it), it can read the published tables…
    String password = "test-" + UUID.randomUUID();
    TestCluster.SOURCE.execute("postgres", "ALTER ROLE " + role + " PASSWORD '" + password + "'");
    try (Connection c = java.sql.DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + TestCluster.SOURCE.port() + "/" + shop.source, role, password);
        Statement st = c.createStatement()) {
      assertThat(countOf(st, "SELECT count(*) FROM orders")).isPositive();
      assertThat(countOf(st, "SELECT count(*) FROM billing.invoices")).isPositive();
      // …and nothing else.
      for (String forbidden :
          List.of(
              "INSERT INTO notes (k, v) VALUES ('intruder', 1)",
              "UPDATE orders SET status = status",
              "DELETE FROM notes",
              "TRUNCATE notes",
              "CREATE TABLE public.intruder (id int)",
              "CREATE SCHEMA intruder",
              "SELECT count(*) FROM order_ids",
              "SELECT last_value FROM " + sourceText("SELECT pg_get_serial_sequence('orders', 'id')"),
              "SELECT lo_get(oid) FROM pg_largeobject_metadata",
              "SELECT rolpassword FROM pg_authid",
              "CREATE ROLE intruder",
              "ALTER ROLE " + role + " SUPERUSER")) {
        assertThatThrownBy(() -> st.execute(forbidden))
            .as(forbidden)
            .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      }
    }
  }

  @Test
  void theRolesPassword_isVoidOnceTheCopyIsDone_andInNoCatalogLogHeartbeatOrFileAfterTheDrainAndTeardown() throws Exception {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs = captureLogs();
    env.setActivityHeartbeatListener(Object.class, details -> seen.add(String.valueOf(details)));
    String role = session().replicationRole();
    try {
      SyncSetup setup = sync(env).startSync(request);
      seen.add(setup.toString());
      String conninfo = subscriptionConnInfo();
      String stored = passwordIn(conninfo);

      assertThat(conninfo).contains("user='" + role + "'").doesNotContain(TestCluster.PASSWORD);
      assertThat(stored).hasSizeGreaterThanOrEqualTo(40);
      assertThat(sourceText("SELECT coalesce(rolpassword, 'none') FROM pg_authid WHERE rolname = '" + role + "'")).isEqualTo("none");
      assertCannotLogIn(role, stored);

      Applying applying = startApplying();
      TestCluster.SOURCE.execute(shop.source, "INSERT INTO notes (k, v) VALUES ('while applying', 1)");
      Eventually.get("the row on the target", () -> targetCount("SELECT count(*) FROM notes WHERE k = 'while applying'"), n -> n == 1);
      env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
      applying.cancel();
      sync(env).drain(request);

      assertThat(targetCount(
              "SELECT count(*) FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"))
          .as("subscriptions after the drain: no connection string is kept").isZero();
      assertThat(sourceText("SELECT rolcanlogin::text || coalesce(rolpassword, 'none') FROM pg_authid WHERE rolname = '" + role + "'"))
          .isEqualTo("falsenone");
      sync(env).stopSync(request);

      assertThat(sourceText("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'")).isEqualTo("0");
      assertCannotLogIn(role, stored);
      logs.list.forEach(e -> {
        seen.add(e.getFormattedMessage());
        if (e.getThrowableProxy() != null) {
          seen.add(e.getThrowableProxy().getMessage());
        }
      });
      assertThat(seen).isNotEmpty().noneSatisfy(text -> assertThat(text).contains(stored));
      try (var files = java.nio.file.Files.walk(workDir)) {
        for (Path file : files.filter(java.nio.file.Files::isRegularFile).toList()) {
          assertThat(new String(java.nio.file.Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1))
              .as(file.toString()).doesNotContain(stored);
        }
      }
    } finally {
      releaseLogs(logs);
    }
  }

  @Test
  void aSubscriptionThatLostItsConnection_isLetInWithANewPassword_andLockedOutAgainOnceIn() throws Exception {
    sync(env).startSync(request);
    String role = session().replicationRole();
    String first = passwordIn(subscriptionConnInfo());
    Applying applying = startApplying();
    Eventually.get("the subscription to stream", this::slotActive, active -> active);

    // The source ends the subscription's connection (a restart, a network cut): the password
    // stored with it logs in to nothing, so only Ferry can let it in again.
    TestCluster.SOURCE.queryLong(
        shop.source, "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = '" + session().slot() + "'");
    TestCluster.SOURCE.execute(shop.source, "INSERT INTO notes (k, v) VALUES ('after the cut', 1)");

    Eventually.get("the row written after the cut, on the target", () -> targetCount("SELECT count(*) FROM notes WHERE k = 'after the cut'"), n -> n == 1);
    Eventually.get(
        "the role locked out again, the subscription in",
        () -> passwordOnTheSource(role).equals("none") && slotActive(),
        locked -> locked);
    String second = passwordIn(subscriptionConnInfo());
    assertThat(second).isNotEqualTo(first);
    assertCannotLogIn(role, second);
    applying.cancel();
  }

  @Test
  void teardownWhenTheTargetIsGone_stillDropsTheSlotThePublicationAndTheRole() throws Exception {
    sync(env).startSync(request);
    assertThat(sourceText("SELECT count(*) FROM pg_roles WHERE rolname = '" + session().replicationRole() + "'")).isEqualTo("1");
    // PostgreSQL refuses to drop a database with a subscription in it: as an operator would, the
    // subscription is dropped without touching the source first.
    TestCluster.TARGET.execute(
        shop.target,
        "ALTER SUBSCRIPTION " + session().subscription() + " DISABLE",
        "ALTER SUBSCRIPTION " + session().subscription() + " SET (slot_name = NONE)",
        "DROP SUBSCRIPTION " + session().subscription());
    TestCluster.TARGET.dropDatabase(shop.target);

    sync(env).stopSync(request);

    TestCluster.TARGET.createDatabase(shop.target);
    assertNothingLeft();
  }

  @Test
  void aSourceCredentialThatMayNotCreateRoles_isRefusedForAPerRunRole_andSubscribesItselfOnlyWhereTheRunbookAllows()
      throws Exception {
    String app = TestCluster.uniqueDatabaseName("app");
    String password = "pw-" + UUID.randomUUID();
    TestCluster.SOURCE.execute("postgres", "CREATE ROLE " + app + " LOGIN REPLICATION PASSWORD '" + password + "'");
    try {
      // The app's own credential: it owns the app's tables and schemas, may replicate, may not create roles.
      TestCluster.SOURCE.execute(
          shop.source,
          "GRANT CREATE ON DATABASE " + shop.source + " TO " + app,
          "ALTER SCHEMA billing OWNER TO " + app,
          "DO $$ DECLARE t record; BEGIN FOR t IN SELECT schemaname, tablename FROM pg_tables"
              + " WHERE schemaname IN ('public', 'billing') LOOP"
              + " EXECUTE format('ALTER TABLE %I.%I OWNER TO " + app + "', t.schemaname, t.tablename); END LOOP; END $$");
      String url = TestCluster.SOURCE.urlWithPassword(shop.source, password).replace(TestCluster.USER + ":", app + ":");
      TestActivityEnvironment asApp = environment(shop.databases(Map.of("SHOP_SOURCE_URL", url)));

      SyncCheck perRun = sync(asApp).checkSync(request);
      assertThat(perRun.refusals()).singleElement().satisfies(r -> assertThat(r).contains("CREATEROLE", "source-credential"));
      assertThatThrownBy(() -> sync(asApp).startSync(request))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
            assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
            assertThat(f.isNonRetryable()).isTrue();
            assertThat(f.getOriginalMessage()).contains("CREATEROLE", "sync.replicationRole: source-credential").doesNotContain(password);
          });
      assertNothingLeft();

      request = new SyncRequest(request.idempotencyKey(), request.databases(), SyncSpec.LOGICAL, 2, SyncSpec.SOURCE_CREDENTIAL);
      SyncCheck allowed = sync(asApp).checkSync(request);
      assertThat(allowed.refusals()).isEmpty();
      assertThat(allowed.warnings()).singleElement().satisfies(w -> assertThat(w).contains("source-credential", app, "until the drain"));
      sync(asApp).startSync(request);
      assertThat(subscriptionConnInfo()).contains("user='" + app + "'");
      assertThat(sourceText("SELECT count(*) FROM pg_roles WHERE rolname = '" + session().replicationRole() + "'")).isEqualTo("0");
      sync(asApp).stopSync(request);
      assertNothingLeft();
    } finally {
      TestCluster.SOURCE.execute(shop.source, "REASSIGN OWNED BY " + app + " TO " + TestCluster.USER, "DROP OWNED BY " + app);
      TestCluster.SOURCE.execute("postgres", "DROP ROLE " + app);
    }
  }

  // --- Helpers ----------------------------------------------------------------------------

  private SyncSession session() {
    return new SyncSession(request, null, null, "test-workflow-id");
  }

  /** Nothing of any sync on either side: what an orphan would be found by. */
  private void assertNothingLeft() throws Exception {
    assertThat(sourceText("SELECT count(*) FROM pg_roles WHERE rolname = '" + session().replicationRole() + "'"))
        .as("the run's replication role").isEqualTo("0");
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

  private String sourceText(String sql) throws Exception {
    try (Connection c = TestCluster.SOURCE.connect(shop.source);
        Statement st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private String passwordOnTheSource(String role) {
    try {
      return sourceText("SELECT coalesce(rolpassword, 'none') FROM pg_authid WHERE rolname = '" + role + "'");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private long targetCount(String sql) {
    try {
      return TestCluster.TARGET.queryLong(shop.target, sql);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static long countOf(Statement st, String sql) throws Exception {
    try (var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private String subscriptionConnInfo() throws Exception {
    try (Connection c = TestCluster.TARGET.connect(shop.target);
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT subconninfo FROM pg_subscription WHERE subname = '" + session().subscription() + "'")) {
      assertThat(rs.next()).as("the subscription").isTrue();
      return rs.getString(1);
    }
  }

  /** The password in a connection string as LogicalConnInfo writes it: {@code password='…'}. */
  private static String passwordIn(String conninfo) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("password='([^']*)'").matcher(conninfo);
    assertThat(m.find()).as("a password in the connection string").isTrue();
    return m.group(1);
  }

  private void assertCannotLogIn(String role, String password) {
    assertThatThrownBy(
            () -> java.sql.DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + TestCluster.SOURCE.port() + "/" + shop.source, role, password)
                .close())
        .as("logging in as " + role)
        .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
  }

  private boolean slotActive() {
    try {
      return TestCluster.SOURCE.queryLong(
              shop.source, "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" + session().slot() + "'")
          == 1;
    } catch (Exception e) {
      return false;
    }
  }

  private static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> captureLogs() {
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(appender);
    return appender;
  }

  private static void releaseLogs(ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender) {
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
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

package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.postgres.VerifyLedger;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.PreverifyActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.verify.ChangedVerification;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import dev.ferry.testing.ActivityFailures;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Verification before the freeze, against the real clusters with both sync methods: the chunks
 * are proven while an app writes, the final verify at the frozen point re-checks only what
 * changed since, and it still catches a change the sync did not carry and a target row written
 * outside the sync, naming each.
 */
@Timeout(240)
class PreverifyTest {
  private static final LogicalTiming TIMING = new LogicalTiming(Duration.ofMillis(100), 5, Duration.ofMillis(1500), Duration.ofSeconds(3), 100, Duration.ofSeconds(20));
  /** No rest between comparisons (the throttle is measured in bench/), short idle. */
  private static final PreverifyActivitiesImpl.Settings FAST =
      new PreverifyActivitiesImpl.Settings(1.0, Duration.ofSeconds(20), Duration.ofMillis(50), 5_000, 4, 3, 2, Pause.SLEEP);
  /**
   * Five seconds of heartbeat timeout, not the test environment's one: an apply batch on a busy
   * machine can go that long between heartbeats, and the environment then cancels the activity
   * for good where the workflow's server would retry it. Longer would slow every cancel: one is
   * seen at the next heartbeat sent, at most every 0.8 of the timeout.
   */
  private static final ActivityOptions HEARTBEATING = heartbeating(Duration.ofSeconds(5));
  /**
   * For a pre-verification that must live until it has re-checked a busy app's every change: with
   * the logical method, reading the key capture's slot after thousands of the app's transactions
   * took over 5 s on this machine (the workflow's timeout is a minute).
   */
  private static final ActivityOptions HEARTBEATING_SLOWLY = heartbeating(Duration.ofSeconds(15));
  /** Rows changed after the pre-verification stopped: what the final verify must re-check, and only that. */
  private static final long LAST_CHANGES = 25;

  @TempDir Path workDir;
  private MigrationDatabases shop;
  private Databases databases;
  private final List<TestActivityEnvironment> environments = new ArrayList<>();
  private TestActivityEnvironment env;
  private SyncRequest sync;
  private PreverifyRequest request;

  private void setUp(String method) throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    databases = shop.databases(Map.of());
    env = environment();
    sync = new SyncRequest(UUID.randomUUID().toString(), shop.references(), method, 2,
        SyncSpec.LOGICAL.equals(method) ? SyncSpec.PER_RUN_ROLE : null);
    request = new PreverifyRequest(UUID.randomUUID().toString(), shop.references(), sync);
  }

  /** A worker's activities; one environment per activity that runs while the test goes on. */
  private TestActivityEnvironment environment() {
    TestActivityEnvironment e = TestActivityEnvironment.newInstance();
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    e.registerActivitiesImplementations(
        new SyncActivitiesImpl(databases, new TriggerSync(databases, copy), new LogicalSync(databases, LogicalSchemaCopy.of(copy), TIMING)),
        new PreverifyActivitiesImpl(databases, new SyncChangeFeeds(), FAST),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        new VerifyActivitiesImpl(databases));
    environments.add(e);
    return e;
  }

  @AfterEach
  void tearDown() throws Exception {
    if (shop == null) {
      return;
    }
    try {
      preverify(environment()).dropPreverification(request);
      sync(environment()).stopSync(sync);
    } finally {
      environments.forEach(TestActivityEnvironment::close);
      shop.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"trigger", "logical"})
  void anAppWritingThroughThePreverification_leavesOnlyItsLastChangesToRecheck_andTheFinalVerifyPasses(String method)
      throws Exception {
    setUp(method);
    Running applying;
    Running preverifying;
    PreverifyCoverage proven;
    try (ShopWriter writer = new ShopWriter(shop.source).start()) {
      writer.awaitMore(20);
      sync(env).startSync(sync);
      applying = start(e -> sync(e).applyChanges(sync));
      preverifying = start(e -> e.newActivityStub(PreverifyActivities.class, HEARTBEATING_SLOWLY).preverifyWhileSyncing(request));
      writer.awaitMore(50);
      proven = awaitEveryChunkProven();
      // Changes after the proofs: re-checked row by row, the proofs stand.
      writer.awaitMore(100);
    }
    // How many of the app's changes are left at the freeze depends on how fast this machine
    // writes: wait until the pre-verification has taken in and re-checked them all, then change
    // a known few.
    awaitEveryChangeTakenIntoTheLedger(method);
    Eventually.get(
        "every change the app made re-checked", this::coverage, c -> c.chunksProven() == c.chunks() && c.changedRows() == 0,
        Duration.ofSeconds(120));
    preverifying.cancel();
    TestCluster.SOURCE.execute(shop.source, "UPDATE products SET stock = stock + 1 WHERE id <= " + LAST_CHANGES);
    ChangedVerification verified = freezeDrainAndVerifyChanged(applying);

    assertThat(proven.planned()).isTrue();
    assertThat(proven.tables()).isEqualTo(6);
    // order_items' 60,000 rows in two chunks, one each for the others.
    assertThat(proven.chunks()).isEqualTo(7);
    assertThat(proven.oldestProof()).isNotNull();
    assertThat(verified.report().problems()).isEmpty();
    assertThat(verified.report().mismatches()).isZero();
    assertThat(verified.report().tables()).hasSize(6).allSatisfy(t -> assertThat(t.method()).endsWith("pre-verified"));
    assertThat(verified.chunks()).isEqualTo(7);
    assertThat(verified.chunksRechecked()).as("every chunk stood proven").isZero();
    // What changed since the last re-checks, not the database, not what was re-checked already.
    assertThat(verified.changedRowsRechecked()).isEqualTo(LAST_CHANGES);
    // An independent full comparison agrees.
    VerificationReport full = env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(shop.references(), 2));
    assertThat(full.problems()).isEmpty();

    preverify(env).dropPreverification(request);
    preverify(env).dropPreverification(request);
    assertNothingOfThePreverificationLeft();
    sync(env).stopSync(sync);
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry\\_%'"))
        .as("Ferry's schemas on the target once the sync is torn down").isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"trigger", "logical"})
  void aChangeTheSyncDidNotCarry_afterItsChunkWasProven_failsTheFinalVerifyNamingTheRow(String method) throws Exception {
    setUp(method);
    sync(env).startSync(sync);
    Running applying = start(e -> sync(e).applyChanges(sync));
    Running preverifying = start(e -> preverify(e).preverifyWhileSyncing(request));
    awaitEveryChunkProven();
    preverifying.cancel();

    long stock = TestCluster.SOURCE.queryLong(shop.source, "SELECT stock FROM products WHERE id = 7");
    if (method.equals("trigger")) {
      // An applier that consumed the change without writing the row.
      applying.cancel();
      applying = null;
      TestCluster.SOURCE.execute(shop.source, "UPDATE products SET stock = stock + 1000 WHERE id = 7");
      String schema = new SyncSession(sync, null, null, "").schema();
      String xid;
      try (java.sql.Connection c = TestCluster.SOURCE.connect(shop.source);
          java.sql.ResultSet rs =
              c.createStatement()
                  .executeQuery(
                      "DELETE FROM " + schema + ".changes WHERE rel = 'public.products'::regclass RETURNING xid::text")) {
        assertThat(rs.next()).as("the captured change").isTrue();
        xid = rs.getString(1);
      }
      // It records the change as applied, in the target's record, as a real batch would.
      TestCluster.TARGET.execute(
          shop.target, "INSERT INTO " + schema + ".applied VALUES ('public', 'products', '{7}', '" + xid + "')");
    } else {
      // A subscriber that lost the change: the row back as it was, written as the subscriber writes.
      TestCluster.SOURCE.execute(shop.source, "UPDATE products SET stock = stock + 1000 WHERE id = 7");
      Eventually.get("the change on the target", () -> targetLong("SELECT stock FROM products WHERE id = 7"), s -> s == stock + 1000);
      TestCluster.TARGET.execute(
          shop.target, "SET session_replication_role = replica", "UPDATE products SET stock = " + stock + " WHERE id = 7");
    }
    ChangedVerification verified = freezeDrainAndVerifyChanged(applying);

    assertThat(verified.report().mismatches()).isEqualTo(1);
    assertThat(verified.report().problems()).singleElement().asString().startsWith("public.products:").contains("id = 7");
    assertThat(verified.chunksRechecked()).isZero();
    assertThat(verified.changedRowsRechecked()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"trigger", "logical"})
  void aTargetRowWrittenOutsideTheSync_afterItsChunkWasProven_failsTheFinalVerifyNamingIt(String method) throws Exception {
    setUp(method);
    sync(env).startSync(sync);
    Running applying = start(e -> sync(e).applyChanges(sync));
    Running preverifying = start(e -> preverify(e).preverifyWhileSyncing(request));
    awaitEveryChunkProven();
    preverifying.cancel();

    TestCluster.TARGET.execute(shop.target, "UPDATE customers SET full_name = 'someone else' WHERE id = 42");
    ChangedVerification verified = freezeDrainAndVerifyChanged(applying);

    assertThat(verified.report().problems()).singleElement().asString().startsWith("public.customers:").contains("id = 42");
  }

  @Test
  void aDifferenceNothingInFlightExplains_failsThePreverificationBeforeTheFreeze_namingTheRow() throws Exception {
    setUp("trigger");
    sync(env).startSync(sync);
    start(e -> sync(e).applyChanges(sync));
    Running preverifying = start(e -> preverify(e).preverifyWhileSyncing(request));
    awaitEveryChunkProven();

    TestCluster.TARGET.execute(shop.target, "DELETE FROM order_items WHERE order_id = 42 AND line_no = 1");

    ApplicationFailure failure = ActivityFailures.failure(() -> preverifying.done().join(), Errors.VERIFICATION_FAILED, true);
    assertThat(failure.getOriginalMessage())
        .startsWith("public.order_items: the row with (order_id, line_no) = (42, 1) differs between source and target in 3 comparisons")
        .contains("the source was never frozen");
  }

  @Test
  void aTruncateAfterTheProofs_withdrawsThemAndTheTableIsProvenAgain() throws Exception {
    setUp("trigger");
    sync(env).startSync(sync);
    start(e -> sync(e).applyChanges(sync));
    Running preverifying = start(e -> preverify(e).preverifyWhileSyncing(request));
    awaitEveryChunkProven();

    TestCluster.SOURCE.execute(shop.source, "INSERT INTO notes VALUES ('a', 1, 'x')", "TRUNCATE notes", "INSERT INTO notes VALUES ('b', 2, 'y')");

    Eventually.get(
        "the notes proven again after the truncate",
        this::coverage,
        c -> c.chunksProven() == c.chunks() && c.changedRows() == 0 && notesProvenAfterTruncate(),
        Duration.ofSeconds(120));
    preverifying.cancel();
  }

  // ---- moves --------------------------------------------------------------------------------

  private boolean notesProvenAfterTruncate() {
    try {
      return TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM notes WHERE k = 'b'") == 1
          && TestCluster.TARGET.queryLong(
                  shop.target,
                  "SELECT count(*) FROM " + ledgerSchema() + ".chunks WHERE relname = 'notes' AND proven_at IS NOT NULL AND rows = 1")
              == 1;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private String ledgerSchema() {
    return "ferry_verify_" + request.idempotencyKey().replace("-", "").substring(0, 12);
  }

  private PreverifyCoverage awaitEveryChunkProven() {
    return Eventually.get(
        "every chunk proven", this::coverage, c -> c.firstPassDone() && c.chunksProven() == c.chunks(), Duration.ofSeconds(150));
  }

  private PreverifyCoverage coverage() {
    return preverify(env).measurePreverification(request);
  }

  /** Freezes, stops applying (when it runs), drains, syncs sequences and verifies what changed, as the workflow does. */
  private ChangedVerification freezeDrainAndVerifyChanged(Running applying) {
    env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    if (applying != null) {
      applying.cancel();
    }
    sync(env).drain(sync);
    env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    return preverify(env).verifyChangedSincePreverified(request);
  }

  private void assertNothingOfThePreverificationLeft() throws Exception {
    for (TestCluster cluster : new TestCluster[] {TestCluster.SOURCE, TestCluster.TARGET}) {
      String db = cluster == TestCluster.SOURCE ? shop.source : shop.target;
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry\\_verify\\_%' OR nspname LIKE '%\\_keys'"))
          .as("verification schemas on " + cluster.name()).isZero();
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_verify\\_%' OR tgname LIKE '%\\_keys%'"))
          .as("verification triggers on " + cluster.name()).isZero();
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '%\\_keys'"))
          .as("the key capture's slot on " + cluster.name()).isZero();
      assertThat(cluster.queryLong(db, "SELECT count(*) FROM pg_publication WHERE pubname LIKE '%\\_keys'"))
          .as("the key capture's publication on " + cluster.name()).isZero();
    }
  }

  /**
   * Once the app stopped writing, waits until the pre-verification's ledger holds every change it
   * made: only then does a ledger with no changed row left mean none is left anywhere.
   */
  private void awaitEveryChangeTakenIntoTheLedger(String method) throws Exception {
    String schema = new SyncSession(sync, null, null, "").schema();
    Duration wait = Duration.ofSeconds(120);
    if (method.equals("trigger")) {
      // Applied (gone from the source's log), then taken (gone from the target's record of it).
      Eventually.get("the app's changes applied", () -> sourceLong("SELECT count(*) FROM " + schema + ".changes"), n -> n == 0, wait);
      Eventually.get("the applied changes taken", () -> targetLong("SELECT count(*) FROM " + schema + ".applied"), n -> n == 0, wait);
    } else {
      // The key feed reads the WAL in order: once it has read a change made after the app's
      // last, it has read them all. That change is one more row to re-check.
      long after = sourceLong("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint");
      TestCluster.SOURCE.execute(shop.source, "UPDATE products SET stock = stock WHERE id = 500");
      String verifySchema = VerifyLedger.of(request.idempotencyKey()).schema();
      Eventually.get(
          "the key feed past the app's last change",
          () -> targetLong("SELECT count(*) FROM " + verifySchema + ".key_feed WHERE (lsn - '0/0'::pg_lsn)::bigint > " + after),
          n -> n == 1,
          wait);
    }
  }

  private long sourceLong(String sql) {
    try {
      return TestCluster.SOURCE.queryLong(shop.source, sql);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private long targetLong(String sql) {
    try {
      return TestCluster.TARGET.queryLong(shop.target, sql);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ActivityOptions heartbeating(Duration timeout) {
    return ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(10)).setHeartbeatTimeout(timeout).build();
  }

  private static SyncActivities sync(TestActivityEnvironment e) {
    return e.newActivityStub(SyncActivities.class, HEARTBEATING);
  }

  private static PreverifyActivities preverify(TestActivityEnvironment e) {
    return e.newActivityStub(PreverifyActivities.class, HEARTBEATING);
  }

  /** An activity running in the background, in an environment of its own (a cancel there stays there). */
  private record Running(TestActivityEnvironment env, CompletableFuture<Void> done) {
    /** Cancels it as the workflow does, and waits until it stopped. */
    void cancel() {
      env.requestCancelActivity();
      assertThatThrownBy(done::join).hasStackTraceContaining("Cancel");
    }
  }

  private Running start(java.util.function.Consumer<TestActivityEnvironment> activity) {
    TestActivityEnvironment own = environment();
    return new Running(own, CompletableFuture.runAsync(() -> activity.accept(own)));
  }
}

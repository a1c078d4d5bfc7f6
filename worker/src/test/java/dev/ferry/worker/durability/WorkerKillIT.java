package dev.ferry.worker.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.model.Progress;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.process.DatabaseState;
import dev.ferry.testing.process.IndependentComparison;
import dev.ferry.testing.process.KillFixtures;
import dev.ferry.testing.process.Leftovers;
import dev.ferry.testing.process.ProcessStack;
import dev.ferry.testing.process.RunApi;
import dev.ferry.testing.process.RunHistory;
import dev.ferry.testing.process.TestApp;
import dev.ferry.testing.process.Waiting;
import dev.ferry.testing.process.WorkerKills;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker process SIGKILLed inside every long step, for both strategies, on one stack of real
 * processes (Temporal server, API, workers; {@link ProcessStack}): each kill waits for a state
 * of the database or of Temporal that shows the step at work, kills, starts a new worker
 * process, and history must then show the step's activity ending on a later attempt taken by a
 * worker started after the kill ({@link WorkerKills#assertEveryKillLandedMidStep}). Each run
 * ends as it would have without the kills; the target equals the source by a comparison that
 * uses none of Ferry's code ({@link IndependentComparison}); nothing is left ({@link Leftovers}:
 * no Ferry object, subscription or slot, session, orphaned tool process or dump file).
 *
 * <p>Steps and the states that show them are named, not timed, so that a step that changes its
 * tools (a streaming copy instead of pg_dump) changes only the state its kill waits for.
 */
class WorkerKillIT {
  /**
   * The tricky fixture's table without an index, held by an app while the verification runs:
   * reading the schema takes no lock on it (pg_get_indexdef locks an indexed table), comparing
   * its rows does.
   */
  static final String HELD_TABLE = "public.audit_log";

  @TempDir static Path workDir;
  static TestApp tricky;
  static TestApp bigShop;
  static TestApp logicalShop;
  static TestApp shop;
  static ProcessStack stack;

  @BeforeAll
  // Templates are loaded once per cluster; on a busy machine that and three JVMs take minutes.
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  static void startStack() throws Exception {
    tricky = TestApp.tricky("tricky");
    bigShop = TestApp.bigShop("bigshop");
    logicalShop = TestApp.bigShop("logicalshop");
    shop = TestApp.shop("shop");
    stack = ProcessStack.start("worker-kills", workDir, env -> shop.addTo(logicalShop.addTo(bigShop.addTo(tricky.addTo(env)))));
    stack.startApiAndWorker();
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (stack != null) {
      System.out.println(stack.logTails());
      stack.close();
    }
    for (TestApp app : new TestApp[] {tricky, bigShop, logicalShop, shop}) {
      if (app != null) {
        app.close();
      }
    }
  }

  /**
   * Single-phase, the tricky fixture: killed while pg_dump copies the million-row table out of
   * the source, while pg_restore copies it into the target, and while the verification is part
   * way through its chunks.
   */
  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void singlePhase_workerKilledInSnapshotRestoreAndVerify_succeeds_targetEqualsSource_nothingLeft() throws Exception {
    RunApi runs = stack.runs();
    RunHistory history = stack.history();
    String runId =
        runs.start(tricky.runbookHead("single-phase", "dump") + "gates: {start: {approvers: [arjun]}, decommission: {approvers: [arjun]}}\n");
    runs.awaitGate(runId, "start", Duration.ofMinutes(2));
    runs.approve(runId, "start", "kill test: go");

    WorkerKills kills = new WorkerKills(stack);
    String dump = DatabaseState.applicationName("ferry-dump", runId);
    kills.killWhile(
        runId,
        "snapshot",
        "DumpDatabase",
        "pg_dump (" + dump + ") COPYing " + KillFixtures.BIG_TABLE + " out of the source (pg_stat_progress_copy)",
        () -> rowsCopied(TestCluster.SOURCE, tricky.source(), dump));
    String restore = DatabaseState.applicationName("ferry-restore", runId);
    kills.killWhile(
        runId,
        "restore",
        "RestoreDatabase",
        "pg_restore (" + restore + ") COPYing " + KillFixtures.BIG_TABLE + " into the target (pg_stat_progress_copy)",
        () -> rowsCopied(TestCluster.TARGET, tricky.target(), restore));
    // The verification cannot end while an app's transaction holds a table: it is part way
    // through (the other tables compared and checkpointed) until the kill, whatever the
    // machine's speed. Nothing between the restore and the verification reads the source's rows.
    try (Connection app = TestCluster.SOURCE.connect(tricky.source());
        Statement s = app.createStatement()) {
      app.setAutoCommit(false);
      // The frozen source defaults to read-only transactions; an exclusive lock needs read-write.
      s.execute("SET TRANSACTION READ WRITE");
      s.execute("LOCK TABLE " + HELD_TABLE + " IN ACCESS EXCLUSIVE MODE");
      kills.killWhile(
          runId,
          "verify",
          "VerifyDatabases",
          "the verification's heartbeated checkpoint (describe): tables compared, " + HELD_TABLE + " still to compare",
          () -> {
            Progress p =
                history.pending(runId, "VerifyDatabases").flatMap(pending -> history.heartbeat(pending, Progress.class)).orElse(null);
            if (p == null || p.checkpoint() == null || p.tablesDone() == 0 || p.tablesDone() >= p.tablesTotal()) {
              return null;
            }
            return p.tablesDone() + "/" + p.tablesTotal() + " tables done, the app holding " + HELD_TABLE;
          },
          () -> {
            try {
              app.commit();
            } catch (java.sql.SQLException e) {
              throw new IllegalStateException(e);
            }
          });
    }

    runs.awaitGate(runId, "decommission", Duration.ofMinutes(3));
    runs.approve(runId, "decommission", "kill test: verified");
    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(2));

    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    kills.assertEveryKillLandedMidStep(runId);
    System.out.println(kills.matrix("single-phase, tricky fixture (" + runId + ")"));
    IndependentComparison comparison = IndependentComparison.of(TestCluster.SOURCE, tricky.source(), TestCluster.TARGET, tricky.target());
    assertThat(comparison.differences()).as(comparison.toString()).isEmpty();
    assertThat(comparison.sourceRows(KillFixtures.BIG_TABLE)).isEqualTo(1_000_500);
    assertNothingLeft(tricky, kills, true);
  }

  /**
   * Multi-phase with the trigger sync (the method that works on Heroku), the shop with a
   * million-row table and an app writing from before the start until the freeze: killed while
   * the initial copy's pg_dump copies the big table at the sync's snapshot, while the apply loop
   * applies the app's changes at the cutover gate, and while the drain works through a backlog
   * after the freeze.
   */
  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void multiPhase_workerKilledInInitialCopyApplyAndDrain_succeeds_everyCommittedWriteOnceOnTheTarget_nothingLeft()
      throws Exception {
    RunApi runs = stack.runs();
    RunHistory history = stack.history();
    WorkerKills kills = new WorkerKills(stack);
    String runId;
    ShopWriter writer = new ShopWriter(bigShop.source()).start();
    try {
      writer.awaitMore(10);
      runId =
          runs.start(
              bigShop.runbookHead("multi-phase", "dump")
                  + "sync: {method: trigger, maxLag: 2m}\nfallbackWindow: 1s\n"
                  + "gates: {start: {approvers: [arjun]}, cutover: {approvers: [arjun]}, decommission: {approvers: [arjun]}}\n");
      runs.awaitGate(runId, "start", Duration.ofMinutes(2));
      runs.approve(runId, "start", "kill test: go");

      String dump = DatabaseState.applicationName("ferry-sync-dump", runId);
      kills.killWhile(
          runId,
          "start-sync",
          "StartSync",
          "the initial copy's pg_dump (" + dump + ") COPYing " + KillFixtures.BIG_TABLE + " at the sync's snapshot (pg_stat_progress_copy)",
          () -> {
            String rows = rowsCopied(TestCluster.SOURCE, bigShop.source(), dump);
            return rows == null ? null : rows + "; the app at " + writer.committed() + " transactions";
          });

      runs.awaitGate(runId, "cutover", Duration.ofMinutes(4));
      String apply = DatabaseState.applicationName("ferry-sync-apply", runId);
      kills.killWhile(
          runId,
          "apply loop",
          "ApplyChanges",
          "ApplyChanges started and heartbeating (describe), its sessions (" + apply + ") on the target, the app writing",
          () -> {
            var pending = history.pending(runId, "ApplyChanges").orElse(null);
            boolean beating =
                pending != null && "STARTED".equals(pending.state()) && pending.lastHeartbeatAt() != null
                    && pending.lastHeartbeatAt().isAfter(Instant.now().minusSeconds(3));
            if (!beating || DatabaseState.sessions(TestCluster.TARGET, bigShop.target(), apply) == 0) {
              return null;
            }
            return "attempt " + pending.attempt() + ", " + KillFixtures.pendingChanges(bigShop.source()) + " changes pending, the app at "
                + writer.committed() + " transactions";
          });
      // What the app wrote while no worker applied it is carried too.
      writer.awaitMore(20);

      // A backlog for the drain, then the cutover at once (the freeze ends the app's session).
      TestCluster.SOURCE.execute(
          bigShop.source(), "UPDATE " + KillFixtures.BIG_TABLE + " SET viewed_at = viewed_at + interval '1 ms' WHERE id <= 100000");
      runs.approve(runId, "cutover", "kill test: cut over");
      kills.killWhile(
          runId,
          "drain",
          "DrainWithSequences",
          "step drain RUNNING (status), DrainWithSequences started (describe), changes still pending in the capture table",
          () -> {
            var pending = history.pending(runId, "DrainWithSequences").orElse(null);
            if (pending == null && !history.ended(runId, "DrainWithSequences").isEmpty()) {
              throw new AssertionError(
                  "the drain ended before the kill: the apply loop caught up with the bulk update before the freeze"
                      + " (a faster machine?); give the drain a bigger backlog");
            }
            if (pending == null || !"STARTED".equals(pending.state())) {
              return null;
            }
            JsonNode status = runs.status(runId).orElse(null);
            long left = KillFixtures.pendingChanges(bigShop.source());
            if (status == null || !"RUNNING".equals(RunApi.stepState(status, "drain")) || left <= 0) {
              return null;
            }
            return left + " changes pending";
          });
    } finally {
      // The freeze ended the app's session before the drain: it has stopped writing.
      writer.close();
    }

    runs.awaitGate(runId, "decommission", Duration.ofMinutes(4));
    runs.approve(runId, "decommission", "kill test: verified");
    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(2));

    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    kills.assertEveryKillLandedMidStep(runId);
    System.out.println(kills.matrix("multi-phase trigger, shop + page_views (" + runId + "), the app committed " + writer.committed()));
    assertTargetEqualsSource_everyCommittedWriteOnce(bigShop, writer);
    assertNothingLeft(bigShop, kills, true);
  }

  /**
   * Multi-phase with the logical sync, the shop with a million-row table and an app writing from
   * before the start until the freeze: killed while the subscription's own initial copy (a
   * table sync worker of the target's) copies the big table, which goes on without Ferry, so
   * the retried setup finds its subscription and waits for the copy again; and in the drain
   * while the subscription cannot apply the last changes (the test holds the big table on the
   * target), so the slot has not confirmed the frozen position when the worker dies. The lock is
   * let go once the worker is dead; the retried drain carries the changes.
   */
  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void multiPhaseLogical_workerKilledInTheSubscriptionsCopyAndInTheDrain_succeeds_everyCommittedWriteOnceOnTheTarget_nothingLeft()
      throws Exception {
    RunApi runs = stack.runs();
    RunHistory history = stack.history();
    WorkerKills kills = new WorkerKills(stack);
    long rolesBefore = replicationRoles();
    String runId;
    ShopWriter writer = new ShopWriter(logicalShop.source()).start();
    try (Connection onTarget = TestCluster.TARGET.connect(logicalShop.target());
        Statement holdOnTarget = onTarget.createStatement()) {
      writer.awaitMore(10);
      runId =
          runs.start(
              logicalShop.runbookHead("multi-phase")
                  + "sync: {method: logical, maxLag: 2m}\nfallbackWindow: 1s\n"
                  + "gates: {start: {approvers: [arjun]}, cutover: {approvers: [arjun]}, decommission: {approvers: [arjun]}}\n");
      runs.awaitGate(runId, "start", Duration.ofMinutes(2));
      runs.approve(runId, "start", "kill test: go");

      kills.killWhile(
          runId,
          "start-sync",
          "StartSync",
          "the subscription's table sync COPYing " + KillFixtures.BIG_TABLE + " out of the source (pg_stat_progress_copy)",
          () -> {
            // The table sync's WAL sender on the source is named pg_<subscription>_sync_<table>_<system>.
            String rows = rowsCopied(TestCluster.SOURCE, logicalShop.source(), "pg\\_");
            return rows == null ? null : rows + "; the app at " + writer.committed() + " transactions";
          });

      runs.awaitGate(runId, "cutover", Duration.ofMinutes(4));
      writer.awaitMore(20);
      // Changes the subscription cannot apply until the test lets go of the table on the target.
      onTarget.setAutoCommit(false);
      holdOnTarget.execute("LOCK TABLE " + KillFixtures.BIG_TABLE + " IN SHARE MODE");
      TestCluster.SOURCE.execute(
          logicalShop.source(), "UPDATE " + KillFixtures.BIG_TABLE + " SET viewed_at = viewed_at + interval '1 ms' WHERE id <= 1000");
      runs.approve(runId, "cutover", "kill test: cut over");
      kills.killWhile(
          runId,
          "drain",
          "DrainWithSequences",
          "step drain RUNNING (status), DrainWithSequences started (describe), the subscription's apply waiting for the"
              + " test's lock on the target",
          () -> {
            var pending = history.pending(runId, "DrainWithSequences").orElse(null);
            if (pending == null || !"STARTED".equals(pending.state())) {
              return null;
            }
            JsonNode status = runs.status(runId).orElse(null);
            long applyWaiting = applyWaitingForALock(logicalShop.target());
            if (status == null || !"RUNNING".equals(RunApi.stepState(status, "drain")) || applyWaiting == 0) {
              return null;
            }
            return "the apply worker waiting for " + KillFixtures.BIG_TABLE + ", the slot behind the frozen source";
          },
          () -> {
            try {
              onTarget.rollback();
            } catch (java.sql.SQLException e) {
              throw new IllegalStateException(e);
            }
          });
    } finally {
      // The freeze ended the app's session before the drain: it has stopped writing.
      writer.close();
    }

    runs.awaitGate(runId, "decommission", Duration.ofMinutes(4));
    runs.approve(runId, "decommission", "kill test: verified");
    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(2));

    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    kills.assertEveryKillLandedMidStep(runId);
    System.out.println(kills.matrix("multi-phase logical, shop + page_views (" + runId + "), the app committed " + writer.committed()));
    assertTargetEqualsSource_everyCommittedWriteOnce(logicalShop, writer);
    assertNothingLeft(logicalShop, kills, true);
    assertThat(replicationRoles()).as("the sync's replication roles, none left behind").isEqualTo(rolesBefore);
  }

  /** Logical replication workers of the target's subscriptions waiting for a lock in {@code database}. */
  static long applyWaitingForALock(String database) {
    return DatabaseState.queryLong(
        TestCluster.TARGET,
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            // 'logical replication worker' up to PostgreSQL 16, '... apply worker' from 17.
            + " AND backend_type LIKE 'logical replication%worker' AND wait_event_type = 'Lock'");
  }

  /** The source cluster's roles made for a logical sync's subscription ({@code ferry_repl_*}). */
  static long replicationRoles() {
    return DatabaseState.queryLong(TestCluster.SOURCE, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'ferry\\_repl\\_%'");
  }

  /**
   * A compensation in the middle of a rollback: the cutover is rejected, and the sync's
   * teardown (the start-sync's compensation) is killed while it waits for a table lock an app's
   * long transaction holds; the transaction goes on for twice the heartbeat timeout after the
   * new worker's retry began waiting for it too. The retry must wait it out heartbeating (one
   * attempt, not one per heartbeat timeout), and the rollback completes.
   */
  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void rollback_workerKilledInTheSyncsTeardownWaitingForAnAppsLock_rollbackCompletes_nothingOfTheSyncLeft() throws Exception {
    RunApi runs = stack.runs();
    String runId =
        runs.start(
            shop.runbookHead("multi-phase")
                + "sync: {method: trigger, maxLag: 2m}\n"
                + "gates: {start: {approvers: [arjun]}, cutover: {approvers: [arjun]}}\n");
    runs.awaitGate(runId, "start", Duration.ofMinutes(2));
    runs.approve(runId, "start", "kill test: go");
    runs.awaitGate(runId, "cutover", Duration.ofMinutes(3));

    WorkerKills kills = new WorkerKills(stack);
    String teardown = DatabaseState.applicationName("ferry-sync-teardown", runId);
    Duration heldAfterRetry = stack.environment().heartbeatTimeout().multipliedBy(2);
    try (Connection app = TestCluster.SOURCE.connect(shop.source());
        Statement s = app.createStatement()) {
      // An app's long transaction: dropping a capture trigger waits for it.
      app.setAutoCommit(false);
      s.execute("LOCK TABLE public.products IN ACCESS SHARE MODE");
      runs.reject(runId, "cutover", "kill test: roll back");
      Instant[] killedAt = new Instant[1];
      kills.killWhile(
          runId,
          "teardown (rollback)",
          "StopSync",
          "the teardown's session (" + teardown + ") waiting for the app's lock on public.products (pg_stat_activity)",
          () -> DatabaseState.waitingForLock(TestCluster.SOURCE, shop.source(), teardown) > 0
              ? "dropping the capture's triggers, waiting for public.products; the app's transaction held it "
                  + heldAfterRetry.toSeconds() + " s more after the retry began waiting"
              : null,
          () -> killedAt[0] = Instant.now(),
          worker -> {
            Waiting.until(
                "the retry on " + worker + " to wait for the app's lock",
                () -> DatabaseState.waitingForLock(TestCluster.SOURCE, shop.source(), teardown, killedAt[0]) > 0,
                Duration.ofMinutes(1));
            // The app's transaction is long: it holds the lock on, whatever Ferry waits for.
            holdFor(heldAfterRetry);
            try {
              app.commit();
            } catch (java.sql.SQLException e) {
              throw new IllegalStateException(e);
            }
          });
    }

    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(2));
    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("REJECTED");
    assertThat(RunApi.stepState(done, "start-sync")).as(done.toString()).isEqualTo("COMPENSATED");
    assertThat(done.path("notes").toString()).doesNotContain("could not undo");
    kills.assertEveryKillLandedMidStep(runId);
    // The new worker lived: one retry, which waited for the lock heartbeating instead of being
    // timed out by the server and retried while it still waited.
    assertThat(stack.history().endedOnce(runId, "StopSync").attempt()).isEqualTo(2);
    System.out.println(kills.matrix("rollback of a multi-phase trigger run, the shop (" + runId + ")"));
    assertNothingLeft(shop, kills, false);
  }

  /** The length of an app's transaction: a scenario's parameter, not a wait for a state. */
  static void holdFor(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** "N rows of page_views copied" while a session whose name starts so COPYs it, else null. */
  static String rowsCopied(TestCluster cluster, String database, String applicationPrefix) {
    long rows = DatabaseState.copyProgress(cluster, database, applicationPrefix, KillFixtures.BIG_TABLE);
    return rows > 0 ? rows + " rows of " + KillFixtures.BIG_TABLE + " copied" : null;
  }

  /**
   * The target equals the source by a comparison that uses none of Ferry's code, the big table
   * whole; every transaction the app committed inserted one customer: all are on the target, once.
   */
  static void assertTargetEqualsSource_everyCommittedWriteOnce(TestApp app, ShopWriter writer) throws Exception {
    IndependentComparison comparison = IndependentComparison.of(TestCluster.SOURCE, app.source(), TestCluster.TARGET, app.target());
    assertThat(comparison.differences()).as(comparison.toString()).isEmpty();
    assertThat(comparison.sourceRows(KillFixtures.BIG_TABLE)).isEqualTo(KillFixtures.BIG_TABLE_ROWS);
    long onSource = TestCluster.SOURCE.queryLong(app.source(), "SELECT count(*) FROM customers WHERE email LIKE 'w%'");
    assertThat(TestCluster.TARGET.queryLong(app.target(), "SELECT count(*) FROM customers WHERE email LIKE 'w%'"))
        .isEqualTo(onSource)
        .isGreaterThanOrEqualTo(writer.committed());
  }

  /**
   * No Ferry object, session, orphaned tool or dump file: whatever the kills interrupted was
   * finished or undone.
   *
   * @param succeeded the run succeeded without moving the traffic: its source stays frozen, and
   *     the write fence is the one thing of Ferry's it keeps, on every table
   */
  static void assertNothingLeft(TestApp app, WorkerKills kills, boolean succeeded) throws Exception {
    kills.assertNoOrphanLeft();
    if (succeeded) {
      assertThat(Leftovers.fenced(TestCluster.SOURCE, app.source())).as("the source stays fenced").isTrue();
      assertThat(Leftovers.besidesTheFence(TestCluster.SOURCE, app.source())).as("on the source").isEmpty();
    } else {
      assertThat(Leftovers.inDatabase(TestCluster.SOURCE, app.source())).as("on the source").isEmpty();
    }
    assertThat(Leftovers.inDatabase(TestCluster.TARGET, app.target())).as("on the target").isEmpty();
    assertThat(Leftovers.sessions(TestCluster.SOURCE, app.source())).as("sessions on the source").isEmpty();
    assertThat(Leftovers.sessions(TestCluster.TARGET, app.target())).as("sessions on the target").isEmpty();
    assertThat(Leftovers.files(workDir)).as("files in the workers' FERRY_WORK_DIR").isEmpty();
  }
}

package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.ToolDirs;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.testing.ActivityFailures;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming copy when things go wrong, against the real clusters: a copier stopped or killed
 * in the middle of a table, the snapshot's holder lost, a chunk the target keeps changing. A
 * table's copy is held in the middle deterministically: a trigger on the target table waits, at
 * one row, for an advisory lock the test holds.
 */
class StreamCopyRecoveryTest {
  /** The row of public.page_views at which the copy waits for the test (in its last key range). */
  static final long HELD_AT_ROW = 180_000;
  /** page_views, cut to 200,000 rows (11 MB), copies as six key ranges. */
  static final CopyTuning CHUNKS = new CopyTuning(1L << 20, 2L << 20, 0, 64, Duration.ofMillis(50), 2);
  static final int LOCK = 4242;

  @TempDir Path workDir;
  MigrationDatabases tricky;
  CopyHarness copy;
  Connection lockHolder;

  @BeforeEach
  void cloneTheFixture() throws Exception {
    tricky = MigrationDatabases.tricky();
    // A fifth of the million rows does here, and copies in a fifth of the time.
    TestCluster.SOURCE.execute(tricky.source, "DELETE FROM public.page_views WHERE id > 200000", "VACUUM public.page_views");
  }

  @AfterEach
  void dropDatabases() throws Exception {
    if (lockHolder != null) {
      lockHolder.close();
    }
    if (copy != null) {
      copy.close();
    }
    tricky.close();
  }

  @Test
  void copierStoppedMidTable_itsRetryTakesTheTableBack_andTablesAlreadyCheckedAreNotCopiedAgain() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    holdPageViewsAt(HELD_AT_ROW);
    Map<Integer, CopyHarness.Running> copiers = Map.of(1, copy.startCopier(1, 1), 2, copy.startCopier(1, 2));
    int heldCopier = awaitHeldMidTable();
    awaitEverythingElseDone();
    CopyHarness.Running first = copiers.get(heldCopier);
    CopyHarness.Running second = copiers.get(3 - heldCopier);
    String countries = CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries");
    String lines = CopyHarness.writers(TestCluster.TARGET, tricky.target, "\"Billing\".\"Invoice Lines\"");
    long chunksCopied = copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'page_views' AND c.state = 'copied'");

    Instant cancelled = Instant.now();
    first.cancel();
    Throwable stopped = first.awaitFailure();
    assertThat(stopped).as("the cancelled copier fails").isNotNull();
    assertThat(Duration.between(cancelled, Instant.now())).isLessThan(Duration.ofSeconds(10));
    releasePageViews();
    // The held chunk rolled back with its bookkeeping row: nothing of it is on the target.
    assertThat(copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'page_views' AND c.state = 'copied'")).isEqualTo(chunksCopied);

    // Temporal retries the same copier: it takes its own chunk back.
    CopyHarness.Running retry = copy.startCopier(1, heldCopier);
    retry.done().get(5, TimeUnit.MINUTES);
    second.done().get(5, TimeUnit.MINUTES);
    CopyResult result = control.finishCopy(copy.request(1));
    holder.cancel();
    holder.awaitFailure();

    assertThat(CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries")).isEqualTo(countries);
    assertThat(CopyHarness.writers(TestCluster.TARGET, tricky.target, "\"Billing\".\"Invoice Lines\"")).isEqualTo(lines);
    assertThat(result.recopied()).isZero();
    assertExact();
  }

  @Test
  void copierWhoseWorkerDied_isRetried_andFinishesWhatItHeld() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    holdPageViewsAt(HELD_AT_ROW);
    CopyHarness.Running first = copy.startCopier(1, 1);
    awaitHeldMidTable();

    // What a dead worker leaves: its sessions gone, its transaction with them.
    String tag = CopyBook.tagOf(copy.key);
    TestCluster.TARGET.execute(
        tricky.target,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-copy-" + tag + "-copier-1'");
    ApplicationFailure died = ActivityFailures.failureOf(() -> join(first));
    assertThat(died.isNonRetryable()).as(died.getOriginalMessage()).isFalse();
    releasePageViews();

    copy.startCopier(1, 1).done().get(5, TimeUnit.MINUTES);
    control.finishCopy(copy.request(1));
    holder.cancel();
    holder.awaitFailure();
    assertExact();
  }

  @Test
  void snapshotHolderLost_isNoticedAtOnce_andTheCopyGoesOnFromANewSnapshot_keepingTablesCopiedWhole() throws Exception {
    // The trigger method's copy: tables wholly copied at the lost snapshot stand.
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.CAPTURED, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    holdPageViewsAt(HELD_AT_ROW);
    CopyHarness.Running first = copy.startCopier(1, 1);
    CopyHarness.Running second = copy.startCopier(1, 2);
    awaitHeldMidTable();
    awaitEverythingElseDone();
    String countries = CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries");

    String tag = CopyBook.tagOf(copy.key);
    Instant lost = Instant.now();
    TestCluster.SOURCE.execute(
        tricky.source,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-copy-" + tag + "-holder'");
    ApplicationFailure holderFailure = ActivityFailures.failureOf(() -> join(holder));
    assertThat(Duration.between(lost, Instant.now())).as("noticed by the holder's own probe").isLessThan(Duration.ofSeconds(10));
    assertThat(holderFailure.getOriginalMessage()).contains("the session holding the copy's snapshot");

    // The workflow cancels the epoch's copiers and starts a new one.
    first.cancel();
    second.cancel();
    first.awaitFailure();
    second.awaitFailure();
    releasePageViews();
    // A transaction commits on the source's server between the two snapshots, so that they
    // differ (on a quiet cluster nothing else would: two snapshots with nothing committed
    // between them are the same and carry the same visibility).
    TestCluster.SOURCE.execute(tricky.source, "SELECT pg_current_xact_id()");
    CopyHarness.Running holder2 = copy.startHolder(2);
    CopyPlan plan = control.planCopy(copy.request(2));
    assertThat(plan.kept()).isEqualTo(plan.tables() - 1);
    assertThat(plan.restarted()).isEqualTo(1); // page_views, copied in part
    copy.runCopiers(2, 2);
    CopyResult result = control.finishCopy(copy.request(2));
    holder2.cancel();
    holder2.awaitFailure();

    assertThat(result.snapshots()).isEqualTo(2);
    assertThat(CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries")).isEqualTo(countries);
    // Each kept table carries the snapshot its rows came from, for the capture's trim.
    assertThat(copy.bookLong("SELECT count(DISTINCT snapshot) FROM $book.tables")).isEqualTo(2);
    assertExact();
  }

  /**
   * A plan attempt that stalls part way (its worker past its heartbeat timeout, or its epoch given
   * up) and would go on after the next epoch's plan: here held after its pre-data restore, reading
   * a table the test locks on the source. The next epoch's plan ends it before it plans, so the
   * stalled one can neither record its plan over the new one nor restore (--clean) over tables
   * the new copiers fill.
   */
  @Test
  void aPlanAttemptStalledPartWay_isEndedByTheNextEpochsPlan_beforeThatOnePlans() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    String tag = CopyBook.tagOf(copy.key);
    CopyHarness.Running holder = copy.startHolder(1);
    // Once the holder has claimed the target and published its snapshot, a table may be there.
    awaitSnapshotPublished(1);
    TestCluster.TARGET.execute(tricky.target, "CREATE TABLE public.countries (code text)");
    CopyHarness.Running stalled;
    try (Connection onTarget = TestCluster.TARGET.connect(tricky.target);
        Statement t = onTarget.createStatement();
        Connection onSource = TestCluster.SOURCE.connect(tricky.source);
        Statement s = onSource.createStatement()) {
      // Its restore first waits for a table held on the target (its dump of the schema is done
      // then), while the test takes a table its plan reads next on the source.
      onTarget.setAutoCommit(false);
      t.execute("LOCK TABLE public.countries IN ACCESS SHARE MODE");
      stalled = copy.startPlan(1);
      awaitWaitingForALock(TestCluster.TARGET, tricky.target, "ferry-copy-" + tag + "-plan-restore");
      onSource.setAutoCommit(false);
      s.execute("SET TRANSACTION READ WRITE");
      s.execute("LOCK TABLE public.page_views IN ACCESS EXCLUSIVE MODE");
      onTarget.rollback();
      awaitWaitingForALock(TestCluster.SOURCE, tricky.source, "ferry-copy-" + tag + "-plan");

      // The workflow gives epoch 1 up and starts epoch 2.
      holder.cancel();
      holder.awaitFailure();
      CopyHarness.Running holder2 = copy.startHolder(2);
      CopyHarness.Running plan2 = copy.startPlan(2);
      // Bounded: left alone, the stalled attempt would wait for the lock as long as it is held.
      Throwable ended;
      try {
        stalled.done().get(60, TimeUnit.SECONDS);
        ended = null;
      } catch (java.util.concurrent.ExecutionException e) {
        ended = e.getCause();
      } catch (java.util.concurrent.TimeoutException stillWaiting) {
        ended = null;
      }
      assertThat(ended).as("the stalled attempt, ended by the next epoch's plan").isNotNull();
      onSource.rollback();
      join(plan2);
      copy.runCopiers(2, 2);
      CopyResult result = copy.worker().finishCopy(copy.request(2));
      holder2.cancel();
      holder2.awaitFailure();
      assertThat(result.detail()).as("every row from epoch 2's snapshot").endsWith("rows kept from 1 snapshot(s)");
    }
    assertThat(copy.bookLong("SELECT v::int FROM $book.state WHERE k = 'epoch'")).isEqualTo(2);
    assertExact();
  }

  /**
   * A plan attempt that finds the plan lock held by a session that does not let go (not one of
   * an earlier attempt's, which the plan ends first) gives up after its 30 s of tries, counted
   * (here with pauses that return at once), retryably and before it changes anything; the retry
   * once the lock is free plans.
   */
  @Test
  void aPlanAttemptThatCannotTakeThePlanLock_failsRetryablyBeforeRestoringAnything_andItsRetryPlans() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyHarness.Running holder = copy.startHolder(1);
    awaitSnapshotPublished(1);
    List<Duration> pauses = new CopyOnWriteArrayList<>();
    try (Connection other = TestCluster.TARGET.connect(tricky.target); Statement s = other.createStatement()) {
      s.execute("SELECT pg_advisory_lock(" + CopyPlanner.PLAN_LOCK + ", hashtext('" + copy.schema() + "'))");
      CopyActivities planner = copy.worker(pauses::add);

      ApplicationFailure busy = ActivityFailures.failure(() -> planner.planCopy(copy.request(1)), Errors.STEP_FAILED, false);

      assertThat(busy.getOriginalMessage()).contains("another session holds the plan lock of copy").contains("after 30 s");
      assertThat(pauses).as("30 s of tries at 50 ms: 601 tries, 600 pauses").hasSize(600).containsOnly(Duration.ofMillis(50));
      assertThat(copy.bookLong("SELECT count(*) FROM $book.state WHERE k = 'planned'")).isZero();
      assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
          .as("no table restored")
          .isZero();
    }

    CopyPlan plan = copy.worker().planCopy(copy.request(1));
    holder.cancel();
    holder.awaitFailure();
    assertThat(plan.tables()).isPositive();
  }

  /**
   * A plan attempt whose session was ended while it dumped the schema (as a newer attempt ends
   * an earlier one's) stops at its liveness check, before its restore connects: nothing is
   * restored on the target, and the attempt fails retryably.
   */
  @Test
  void aPlanAttemptEndedWhileItDumpsTheSchema_restoresNothing() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    String tag = CopyBook.tagOf(copy.key);
    CopyHarness.Running holder = copy.startHolder(1);
    Throwable failed;
    try (Connection onSource = TestCluster.SOURCE.connect(tricky.source);
        Statement s = onSource.createStatement()) {
      // The plan's pg_dump waits for a table the test holds on the source.
      onSource.setAutoCommit(false);
      s.execute("SET TRANSACTION READ WRITE");
      s.execute("LOCK TABLE public.page_views IN ACCESS EXCLUSIVE MODE");
      CopyHarness.Running plan = copy.startPlan(1);
      awaitWaitingForALock(TestCluster.SOURCE, tricky.source, "ferry-copy-" + tag + "-dump");
      assertThat(TestCluster.TARGET.queryLong(
              tricky.target,
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'ferry-copy-" + tag + "-plan'"))
          .as("the plan's session on the target, ended")
          .isEqualTo(1);
      onSource.rollback();
      failed = plan.awaitFailure();
    }
    holder.cancel();
    holder.awaitFailure();

    assertThat(failed)
        .as("the plan attempt")
        .isNotNull()
        .rootCause()
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
              assertThat(f.isNonRetryable()).isFalse();
            });
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM pg_tables WHERE schemaname NOT LIKE 'ferry%'"
            + " AND schemaname NOT IN ('pg_catalog', 'information_schema')"))
        .as("no table of the app restored")
        .isZero();
  }

  /**
   * What a stale plan attempt's pre-data restore ({@code --clean}) would do if it still ran once
   * its check had passed: drop a table the copiers filled and checked, and create it again empty.
   * No row count in the bookkeeping shows it; the table's oid does, and the copy's report fails.
   */
  @Test
  void aCheckedTableDroppedAndCreatedAgainBeforeTheFinish_failsTheCopysReport_namingIt() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    // The copy held in page_views, so that its report is not made yet when audit_log is replaced.
    holdPageViewsAt(HELD_AT_ROW);
    CopyHarness.Running first = copy.startCopier(1, 1);
    CopyHarness.Running second = copy.startCopier(1, 2);
    awaitHeldMidTable();
    Eventually.until(
        "public.audit_log checked", () -> copy.bookLong("SELECT count(*) FROM $book.tables WHERE relname = 'audit_log' AND state = 'checked'") == 1);
    copy.replaceWithAnEmptyTable("audit_log");
    releasePageViews();
    first.done().get(5, TimeUnit.MINUTES);
    second.done().get(5, TimeUnit.MINUTES);

    control.finishCopy(copy.request(1));
    VerificationReport report = control.verifyCopy(copy.request(1));
    holder.cancel();
    holder.awaitFailure();

    CopyHarness.assertOnlyReplaced(report, "audit_log");
    assertThat(report.tables()).filteredOn(t -> !t.matches()).singleElement().satisfies(t -> assertThat(t.sourceRows()).isEqualTo(3000));
  }

  /** Until the epoch's holder has claimed the target and published its snapshot in the bookkeeping. */
  private void awaitSnapshotPublished(int epoch) {
    Eventually.until(
        "epoch " + epoch + "'s snapshot published",
        () -> copy.bookExists()
            && copy.bookLong("SELECT count(*) FROM $book.state WHERE k = '" + CopyBook.snapshotKey(epoch) + "'") == 1);
  }

  private static void awaitWaitingForALock(TestCluster cluster, String database, String applicationName) {
    Eventually.until(
        applicationName + " waiting for a lock",
        () -> cluster.queryLong(
                database,
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + applicationName + "' AND wait_event_type = 'Lock'") > 0);
  }

  @Test
  void snapshotHolderLost_inTheSinglePhaseCopy_keepsRowsOnlyIfNothingCommittedSince() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    holdPageViewsAt(HELD_AT_ROW);
    CopyHarness.Running first = copy.startCopier(1, 1);
    awaitHeldMidTable();
    String tag = CopyBook.tagOf(copy.key);
    TestCluster.SOURCE.execute(
        tricky.source,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-copy-" + tag + "-holder'");
    holder.awaitFailure();
    first.cancel();
    first.awaitFailure();
    releasePageViews();
    // A transaction commits on the source's server between the two snapshots.
    TestCluster.SOURCE.execute(tricky.source, "CREATE TEMP TABLE committed_between (x int)");
    TestCluster.SOURCE.execute(tricky.source, "SELECT pg_current_xact_id()");

    CopyHarness.Running holder2 = copy.startHolder(2);
    CopyPlan plan = control.planCopy(copy.request(2));
    assertThat(plan.kept()).isZero();
    assertThat(plan.restarted()).isPositive();
    copy.runCopiers(2, 2);
    control.finishCopy(copy.request(2));
    holder2.cancel();
    holder2.awaitFailure();
    assertExact();
  }

  @Test
  void snapshotHolderLost_whileTheFinishRuns_keepsEveryTable_andTheFinishCompletesFromTheNewEpoch() throws Exception {
    // Workers whose vacuumdb fails: the finish (run by the last copier) stops at the analysis,
    // after the foreign keys, as it would stop when the holder's loss cancels that copier.
    Path bin = ToolDirs.withOnly(workDir.resolve("bin"), "pg_dump", "pg_restore");
    Path vacuumdb = bin.resolve("vacuumdb");
    Files.writeString(vacuumdb, "#!/bin/sh\necho 'vacuumdb: error: could not connect to server'\nexit 1\n");
    vacuumdb.toFile().setExecutable(true);
    // A plain index of a partitioned table: the copiers build its partitions' indexes, the
    // post-data creates it and attaches them.
    TestCluster.SOURCE.execute(tricky.source, "CREATE INDEX measurements_value ON public.measurements (value)");
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of(), new PgTools(bin));
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    CopyPlan first = control.planCopy(copy.request(1));
    CopyHarness.Running one = copy.startCopier(1, 1);
    CopyHarness.Running two = copy.startCopier(1, 2);
    Throwable failed = one.awaitFailure();
    Throwable failed2 = two.awaitFailure();
    assertThat(failed == null ? failed2 : failed).as("the copier that ran the finish").hasStackTraceContaining("vacuumdb");
    assertThat(copy.bookLong("SELECT count(*) FROM $book.tables WHERE state <> 'checked'")).isZero();
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"))
        .as("the premise: the finish added the foreign keys")
        .isPositive();

    String tag = CopyBook.tagOf(copy.key);
    TestCluster.SOURCE.execute(
        tricky.source,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ferry-copy-" + tag + "-holder'");
    holder.awaitFailure();
    // A transaction commits between the two snapshots: before every table was checked, that
    // would empty them all (snapshotHolderLost_inTheSinglePhaseCopy_…).
    TestCluster.SOURCE.execute(tricky.source, "SELECT pg_current_xact_id()");
    Files.delete(vacuumdb);
    ToolDirs.withOnly(bin, "vacuumdb");
    // And as if the worker had died between pg_restore's end and the finish's note of it: the
    // post-data is restored again over itself.
    TestCluster.TARGET.execute(tricky.target, "DELETE FROM " + copy.schema() + ".state WHERE k = 'post-data'");
    String countries = CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries");

    CopyHarness.Running holder2 = copy.startHolder(2);
    CopyPlan plan = control.planCopy(copy.request(2));
    assertThat(plan.kept()).isEqualTo(first.tables());
    assertThat(plan.restarted()).isZero();
    copy.runCopiers(2, 2);
    CopyResult result = control.finishCopy(copy.request(2));
    holder2.cancel();
    holder2.awaitFailure();

    assertThat(result.tables()).isEqualTo(first.tables());
    assertThat(CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries")).isEqualTo(countries);
    assertThat(TestCluster.TARGET.tablesAnalyzed(tricky.target, false)).isZero();
    assertThat(TestCluster.TARGET.queryLong(
            tricky.target, "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relname = 'measurements_value'"))
        .as("the partitions' indexes attached to it")
        .isEqualTo(2);
    assertExact();
  }

  @Test
  void snapshotHolderLost_asTheFinishCommitted_theNextEpochLeavesTheFinishedCopyAsItIs() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    // The finish committed (its claim on the target released with it), but the holder's end
    // reached the workflow before the copier's: it starts another epoch.
    CopyResult finished = copy.copyAll(2);
    TestCluster.SOURCE.execute(tricky.source, "SELECT pg_current_xact_id()");
    String countries = CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries");

    CopyHarness.Running holder2 = copy.startHolder(2);
    Eventually.get(
        "the new snapshot published, or its holder ended",
        () -> holder2.done().isDone() ? -1L : query("SELECT count(*) FROM $book.state WHERE k = 'epoch.2.snapshot'"),
        n -> n != 0);
    assertThat(holder2.done()).as("the new holder, on a target whose claim the finish released").isNotDone();
    CopyPlan plan = control.planCopy(copy.request(2));
    assertThat(plan.restarted()).isZero();
    copy.runCopiers(2, 2);
    CopyResult result = control.finishCopy(copy.request(2));
    holder2.cancel();
    holder2.awaitFailure();

    assertThat(result).isEqualTo(finished);
    assertThat(CopyHarness.writers(TestCluster.TARGET, tricky.target, "public.countries")).isEqualTo(countries);
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ferry_restore_claim'"))
        .as("no claim taken again on the finished target")
        .isZero();
    assertExact();
  }

  @Test
  void unchanged_holdsOnlyWhenNoTransactionCommittedBetweenTwoSnapshots() throws Exception {
    try (Connection c = TestCluster.SOURCE.connect(tricky.source);
        Statement s = c.createStatement()) {
      String first = snapshotNow(s);
      assertThat(CopyPlanner.unchanged(c, first, first)).isTrue();
      s.execute("CREATE TABLE public.written_between (x int)");
      String second = snapshotNow(s);
      assertThat(CopyPlanner.unchanged(c, first, second)).isFalse();
    }
  }

  @Test
  void chunkTheTargetKeepsChanging_failsTheCopy_namingTableAndKeyRange() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    control.planCopy(copy.request(1));
    TestCluster.TARGET.execute(
        tricky.target,
        "CREATE FUNCTION public.meddle() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
            + " IF NEW.id = 150000 THEN NEW.path := '/p/meddled'; END IF; RETURN NEW; END $f$",
        "CREATE TRIGGER meddle BEFORE INSERT ON public.page_views FOR EACH ROW EXECUTE FUNCTION public.meddle()");
    CopyHarness.Running copier = copy.startCopier(1, 1);

    ApplicationFailure failure = ActivityFailures.failureOf(() -> join(copier));
    holder.cancel();
    holder.awaitFailure();

    assertThat(failure.getType()).isEqualTo(Errors.VERIFICATION_FAILED);
    assertThat(failure.isNonRetryable()).isTrue();
    long lower = copy.bookLong("SELECT coalesce(lower, 0) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'page_views' AND (c.lower IS NULL OR c.lower < 150000) AND (c.upper IS NULL OR c.upper >= 150000)");
    assertThat(failure.getOriginalMessage())
        .startsWith("public.page_views: rows differ on the target after 3 copies: id > " + lower + " and id <= ")
        .contains("by primary key: id > 100000 and id <= 150000 (source 50000 rows, target 50000)");
    assertThat(copy.bookLong("SELECT recopies FROM $book.tables WHERE relname = 'page_views'")).isEqualTo(2);
  }

  @Test
  void sourceThatRefusesToExportASnapshot_failsForGood_suggestingTheDumpMethod() throws Exception {
    String role = "ferry_copy_refused_" + CopyBook.tagOf(java.util.UUID.randomUUID().toString());
    TestCluster.SOURCE.execute(tricky.source, "CREATE ROLE " + role + " LOGIN PASSWORD 'refused-local-only'",
        "REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC");
    try {
      Map<String, String> environment =
          Map.of("SHOP_SOURCE_URL", "postgres://" + role + ":refused-local-only@127.0.0.1:" + TestCluster.SOURCE.port() + "/" + tricky.source);
      copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, environment);
      CopyActivities holder = copy.worker();

      ApplicationFailure refused =
          ActivityFailures.failure(() -> holder.holdSnapshot(copy.request(1)), Errors.SNAPSHOT_REFUSED, true);
      assertThat(refused.getOriginalMessage()).contains("pg_export_snapshot").contains("snapshot.method: dump");
    } finally {
      TestCluster.SOURCE.execute("postgres", "DROP ROLE IF EXISTS " + role + "");
    }
  }

  @Test
  void sourceThatRefusesToImportTheSnapshot_whileItsHolderLives_failsForGood_suggestingTheDumpMethod() throws Exception {
    copy = new CopyHarness(tricky, workDir, CHUNKS, CopyRequest.FROZEN, Map.of());
    CopyActivities control = copy.worker();
    CopyHarness.Running holder = copy.startHolder(1);
    // The holder claims the target and creates the bookkeeping first.
    Eventually.get(
        "the snapshot published",
        () -> query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relname = 'state' AND n.nspname = '" + copy.schema() + "'")
            > 0 && query("SELECT count(*) FROM " + copy.schema() + ".state WHERE k = 'epoch.1.snapshot'") == 1,
        published -> published);
    // What a pooler between Ferry and the server does: the import lands on another session.
    TestCluster.TARGET.execute(
        tricky.target, "UPDATE " + copy.schema() + ".state SET v = '00000003-00000099-1' WHERE k = 'epoch.1.snapshot'");

    ApplicationFailure refused =
        ActivityFailures.failure(() -> control.planCopy(copy.request(1)), Errors.SNAPSHOT_REFUSED, true);
    holder.cancel();
    holder.awaitFailure();
    assertThat(refused.getOriginalMessage()).contains("SET TRANSACTION SNAPSHOT").contains("snapshot.method: dump");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** One number from the target; for probes, which may not throw. */
  private long query(String sql) {
    try {
      return TestCluster.TARGET.queryLong(tricky.target, sql.replace("$book", copy.schema()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every table but page_views checked, every chunk but the held one copied. */
  private void awaitEverythingElseDone() {
    Eventually.get(
        "every other table checked and every other chunk copied",
        () -> query("SELECT count(*) FROM $book.tables WHERE state <> 'checked'") * 1000
            + query("SELECT count(*) FROM $book.chunks WHERE state <> 'copied'"),
        n -> n == 1001);
  }

  private static String snapshotNow(Statement s) throws Exception {
    try (var rs = s.executeQuery("SELECT pg_current_snapshot()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void join(CopyHarness.Running running) {
    try {
      running.done().get(2, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Makes the copy of public.page_views wait at one row until {@link #releasePageViews()}. */
  private void holdPageViewsAt(long id) throws Exception {
    lockHolder = TestCluster.TARGET.connect(tricky.target);
    try (Statement s = lockHolder.createStatement()) {
      s.execute("SELECT pg_advisory_lock(" + LOCK + ")");
      s.execute(
          "CREATE FUNCTION public.hold_here() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
              + " IF NEW.id = " + id + " THEN PERFORM pg_advisory_xact_lock(" + LOCK + "); END IF; RETURN NEW; END $f$");
      s.execute("CREATE TRIGGER hold_here BEFORE INSERT ON public.page_views FOR EACH ROW EXECUTE FUNCTION public.hold_here()");
    }
  }

  /** A copier's session waits for the test's lock: it is inside page_views' copy. Returns which copier. */
  private int awaitHeldMidTable() {
    long copier =
        Eventually.get(
            "a copier held in the middle of public.page_views",
            () -> query(
                "SELECT coalesce(max(substring(a.application_name from '-copier-([0-9]+)$')::int), 0) FROM pg_locks l"
                    + " JOIN pg_stat_activity a ON a.pid = l.pid"
                    + " WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = " + LOCK),
            n -> n > 0);
    return (int) copier;
  }

  /**
   * A copier still held goes on first, then the hold goes: dropping the trigger waits for that
   * copier's commit (dropped first, it would wait on the copier that waits on the lock: a deadlock).
   */
  private void releasePageViews() throws Exception {
    try (Statement s = lockHolder.createStatement()) {
      s.execute("SELECT pg_advisory_unlock(" + LOCK + ")");
      s.execute("DROP TRIGGER hold_here ON public.page_views");
      s.execute("DROP FUNCTION public.hold_here()");
    }
  }

  private void assertExact() {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new VerifyActivitiesImpl(copy.databases));
      VerificationReport report =
          env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(tricky.references(), 2));
      assertThat(report.problems()).isEmpty();
    } finally {
      env.close();
    }
  }
}

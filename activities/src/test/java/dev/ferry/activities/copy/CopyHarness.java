package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activity.CopyActivities;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The copy's activities as a workflow drives them, against the real clusters, each "worker"
 * (the holder, every copier) in its own activity environment so that each can be cancelled on
 * its own. Activities run once (no retries): a test retries by calling again, as Temporal would.
 */
final class CopyHarness implements AutoCloseable {
  /** Splits every table of a few megabytes (whatever the others weigh), so the fixtures' big tables copy as several key ranges. */
  static final CopyTuning SMALL_CHUNKS = new CopyTuning(4L << 20, 8L << 20, 0, 64, Duration.ofMillis(50), 2);

  final MigrationDatabases dbs;
  final Databases databases;
  final PgTools tools;
  final Path workDir;
  final CopyTuning tuning;
  final String key = UUID.randomUUID().toString();
  final String mode;
  private final List<TestActivityEnvironment> environments = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  CopyHarness(MigrationDatabases dbs, Path workDir, CopyTuning tuning, String mode, Map<String, String> environment) {
    this(dbs, workDir, tuning, mode, environment, PgTools.locate(System.getenv()));
  }

  /** The same on workers whose client tools are {@code tools} (a bin dir with a failing one, say). */
  CopyHarness(
      MigrationDatabases dbs, Path workDir, CopyTuning tuning, String mode, Map<String, String> environment, PgTools tools) {
    this.tools = tools;
    this.dbs = dbs;
    this.databases = dbs.databases(environment);
    this.workDir = workDir;
    this.tuning = tuning;
    this.mode = mode;
  }

  CopyRequest request(int epoch) {
    return new CopyRequest(key, dbs.references(), 2, mode, epoch, 0);
  }

  String schema() {
    return CopyBook.SCHEMA_PREFIX + CopyBook.tagOf(key);
  }

  /** A fresh "worker": its own environment, so a cancellation reaches only its activity. */
  CopyActivities worker() {
    return worker(Pause.SLEEP);
  }

  /** The same, pausing with {@code pause} (one that records and returns at once, say). */
  CopyActivities worker(Pause pause) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    environments.add(env);
    env.registerActivitiesImplementations(new CopyActivitiesImpl(databases, tools, workDir, tuning, pause));
    return env.newActivityStub(
        CopyActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(10))
            // Short: a cancellation reaches an activity with the answer to a heartbeat, which the
            // SDK sends at most every 80 % of this (the worker caps it at 1 s the same way).
            .setHeartbeatTimeout(Duration.ofSeconds(5))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  /** The environment of the most recent {@link #worker()}. */
  TestActivityEnvironment lastEnvironment() {
    return environments.get(environments.size() - 1);
  }

  /** A background activity and the environment that can cancel it. */
  record Running(CompletableFuture<Void> done, TestActivityEnvironment env) {
    void cancel() {
      env.requestCancelActivity();
    }

    Throwable awaitFailure() throws Exception {
      try {
        done.get(2, TimeUnit.MINUTES);
        return null;
      } catch (java.util.concurrent.ExecutionException e) {
        return e.getCause();
      }
    }
  }

  Running startHolder(int epoch) {
    CopyActivities holder = worker();
    TestActivityEnvironment env = lastEnvironment();
    return new Running(CompletableFuture.runAsync(() -> holder.holdSnapshot(request(epoch)), threads), env);
  }

  Running startPlan(int epoch) {
    CopyActivities planner = worker();
    TestActivityEnvironment env = lastEnvironment();
    return new Running(CompletableFuture.runAsync(() -> planner.planCopy(request(epoch)), threads), env);
  }

  Running startCopier(int epoch, int copier) {
    CopyActivities c = worker();
    TestActivityEnvironment env = lastEnvironment();
    return new Running(CompletableFuture.runAsync(() -> c.copyTables(request(epoch).copier(copier)), threads), env);
  }

  /** The whole copy of one epoch, as the workflow runs it, with {@code copiers} copiers. */
  CopyResult copyAll(int copiers) throws Exception {
    CopyResult result = copyAllLeavingTheHolder(copiers);
    lastHolder.cancel();
    lastHolder.awaitFailure();
    return result;
  }

  /**
   * The same, its snapshot's holder left running ({@link #lastHolder}), as when the workflow's
   * cancel has not reached it yet.
   */
  CopyResult copyAllLeavingTheHolder(int copiers) throws Exception {
    CopyActivities control = worker();
    lastHolder = startHolder(1);
    lastPlan = control.planCopy(request(1));
    runCopiers(1, copiers);
    return control.finishCopy(request(1));
  }

  CopyPlan lastPlan;
  Running lastHolder;

  void runCopiers(int epoch, int copiers) throws Exception {
    List<Running> running = new ArrayList<>();
    for (int i = 1; i <= copiers; i++) {
      running.add(startCopier(epoch, i));
    }
    for (Running r : running) {
      r.done().get(5, TimeUnit.MINUTES);
    }
  }

  /** One value of the bookkeeping, as a number. */
  long bookLong(String sql) throws Exception {
    return TestCluster.TARGET.queryLong(dbs.target, sql.replace("$book", schema()));
  }

  /** Whether the bookkeeping schema exists. */
  boolean bookExists() throws Exception {
    return TestCluster.TARGET.queryLong(
            dbs.target, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema() + "'")
        == 1;
  }

  /** Sessions of this copy still connected to a side. */
  static long copySessions(TestCluster cluster, String database, String tag) throws Exception {
    return cluster.queryLong(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ferry-copy-" + tag + "-%'");
  }

  /** The distinct transaction ids that wrote a table's rows: unchanged when the table was not copied again. */
  static String writers(TestCluster cluster, String database, String table) throws Exception {
    try (Connection c = cluster.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT string_agg(DISTINCT xmin::text, ',' ORDER BY xmin::text) FROM " + table)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Drops {@code public.<name>} on the target and creates it again, empty, as a stale plan
   * attempt's pre-data restore ({@code --clean}) would: the same definition, another table.
   */
  void replaceWithAnEmptyTable(String name) throws Exception {
    TestCluster.TARGET.execute(
        dbs.target,
        "CREATE TABLE public." + name + "_new (LIKE public." + name + " INCLUDING ALL)",
        "DROP TABLE public." + name,
        "ALTER TABLE public." + name + "_new RENAME TO " + name);
  }

  /** The report's one mismatch: {@code public.<name>}, replaced since its check, now empty. */
  static void assertOnlyReplaced(VerificationReport report, String name) {
    assertThat(report.mismatches()).isEqualTo(1);
    assertThat(report.tables())
        .filteredOn(t -> !t.matches())
        .singleElement()
        .satisfies(t -> {
          assertThat(t.table()).isEqualTo("public." + name);
          assertThat(t.method()).isEqualTo(CopyReport.REPLACED);
          assertThat(t.targetRows()).isZero();
        });
  }

  @Override
  public void close() {
    threads.shutdownNow();
    environments.forEach(TestActivityEnvironment::close);
  }
}

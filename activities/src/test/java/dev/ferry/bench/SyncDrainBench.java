package dev.ferry.bench;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import dev.ferry.options.ActivityCatalog;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Times the sync's part of a multi-phase cutover under the load the script runs (pgbench): the
 * sync's activities, wired as the worker wires them, under Temporal's {@link
 * TestActivityEnvironment}, in the workflow's order: start the sync, apply in the background
 * until the lag is small and has stayed so for {@code --steady} seconds, then freeze the source
 * (writes stop: the downtime starts), stop applying, drain, sync sequences (the target has every
 * committed transaction: the downtime ends), and verify. The app's downtime also holds the
 * verify and the workflow's own steps: {@link CutoverDowntimeBench} measures that. Started by {@code
 * bench/sync-drain.sh}; never by surefire (its name matches no test pattern).
 *
 * <p>Also measures apply throughput on a backlog: applying is stopped for {@code --backlog}
 * seconds while the load goes on, then restarted, and the changes it clears per second are
 * counted until the backlog is gone.
 *
 * <p>With {@code --large-objects N} (the script made N large objects on the source), 1 % of them
 * are changed, 10 created and 10 removed just before the freeze: the drain brings them across.
 *
 * <p>Arguments: {@code --method trigger|logical --jobs N --work-dir DIR --steady S --backlog B
 * [--large-objects N]}.
 * References: {@code env:BENCH_SOURCE_URL}, {@code env:BENCH_TARGET_URL}. Prints
 * {@code name value} lines on stdout. No retries: a failed attempt fails the bench.
 */
public final class SyncDrainBench {
  private static final String SOURCE_REF = "env:BENCH_SOURCE_URL";
  private static final String TARGET_REF = "env:BENCH_TARGET_URL";

  private SyncDrainBench() {}

  public static void main(String[] args) {
    int status = 1;
    try {
      run(args);
      status = 0;
    } catch (Exception e) {
      e.printStackTrace();
    }
    System.exit(status);
  }

  private static void run(String[] args) throws Exception {
    String method = "trigger";
    int jobs = 2;
    Path workDir = null;
    int steady = 30;
    int backlog = 20;
    int largeObjects = 0;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--method" -> method = args[i + 1];
        case "--jobs" -> jobs = Integer.parseInt(args[i + 1]);
        case "--work-dir" -> workDir = Path.of(args[i + 1]);
        case "--steady" -> steady = Integer.parseInt(args[i + 1]);
        case "--backlog" -> backlog = Integer.parseInt(args[i + 1]);
        case "--large-objects" -> largeObjects = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (workDir == null) {
      throw new IllegalArgumentException("usage: --method M --jobs N --work-dir DIR [--steady S] [--backlog B]");
    }
    Databases databases =
        new Databases(new SecretResolver(System.getenv(), () -> {
          throw new IllegalStateException("the bench resolves env: references only");
        }, dev.ferry.activities.secrets.SecretPolicy.of("env:*")));
    PgTools tools = PgTools.locate(System.getenv());
    DatabasePair pair = new DatabasePair(SOURCE_REF, TARGET_REF);
    SyncRequest request =
        new SyncRequest(
            UUID.randomUUID().toString(), pair, method, jobs, dev.ferry.model.runbook.SyncSpec.LOGICAL.equals(method) ? dev.ferry.model.runbook.SyncSpec.PER_RUN_ROLE : null);
    TestActivityEnvironment env = environment(databases, tools, workDir);
    TestActivityEnvironment applyEnv = environment(databases, tools, workDir);
    SyncActivities sync = env.newActivityStub(SyncActivities.class, once(ActivityCatalog.syncControl()));
    try {
      long t0 = System.nanoTime();
      SyncSetup setup = env.newActivityStub(SyncActivities.class, once(ActivityCatalog.syncSetup())).startSync(request);
      print("sync.setup.seconds", seconds(System.nanoTime() - t0));
      print("sync.setup.tables", setup.tables());
      print("sync.setup.rows", setup.rows());

      // Apply throughput on a backlog built while applying is stopped and the load goes on.
      SyncLag before = sync.measureLag(request);
      Thread.sleep(Duration.ofSeconds(backlog).toMillis());
      SyncLag built = sync.measureLag(request);
      CompletableFuture<Void> applying = startApplying(applyEnv, request);
      long a0 = System.nanoTime();
      SyncLag lag = built;
      while (lag.pendingChanges() > Math.max(100, built.pendingChanges() / 100)) {
        Thread.sleep(200);
        lag = sync.measureLag(request);
      }
      double catchUp = seconds(System.nanoTime() - a0);
      long arrivedPerSecond = (built.pendingChanges() - before.pendingChanges()) / Math.max(1, backlog);
      print("apply.backlog.changes", built.pendingChanges());
      print("apply.catchup.seconds", catchUp);
      print("apply.arrivals.per.second", arrivedPerSecond);
      print("apply.changes.per.second", (long) ((built.pendingChanges() + arrivedPerSecond * catchUp - lag.pendingChanges()) / catchUp));

      Thread.sleep(Duration.ofSeconds(steady).toMillis());
      SyncLag atCutover = sync.measureLag(request);
      print("cutover.lag.pending", atCutover.pendingChanges());
      print("cutover.lag.millis", atCutover.lagMillis());

      if (largeObjects > 0) {
        print("large-objects.changed", changeLargeObjects(databases, largeObjects));
      }
      long f0 = System.nanoTime();
      env.newActivityStub(FreezeActivities.class, once(ActivityCatalog.sourceChanges())).freezeSource(SOURCE_REF);
      long f1 = System.nanoTime();
      applyEnv.requestCancelActivity();
      try {
        applying.join();
      } catch (RuntimeException cancelled) {
        // Cancelled, as asked.
      }
      long f2 = System.nanoTime();
      SyncLag drained = sync.drain(request);
      long f3 = System.nanoTime();
      env.newActivityStub(SequenceActivities.class, once(ActivityCatalog.sourceChanges())).syncSequences(pair);
      long f4 = System.nanoTime();
      VerificationReport report =
          env.newActivityStub(VerifyActivities.class, once(ActivityCatalog.verify())).verifyDatabases(new VerifyRequest(pair, jobs));
      long f5 = System.nanoTime();
      print("cutover.freeze.seconds", seconds(f1 - f0));
      print("cutover.stop-apply.seconds", seconds(f2 - f1));
      print("cutover.drain.seconds", seconds(f3 - f2));
      print("cutover.sequences.seconds", seconds(f4 - f3));
      print("cutover.downtime.seconds", seconds(f4 - f0));
      print("cutover.verify.seconds", seconds(f5 - f4));
      print("cutover.drained.pending", drained.pendingChanges());
      print("verify.mismatches", report.mismatches());
      if (report.mismatches() > 0) {
        System.err.println("verification found differences: " + report.problems());
      }
    } finally {
      try {
        sync.stopSync(request);
      } finally {
        env.close();
        applyEnv.close();
      }
    }
  }

  private static TestActivityEnvironment environment(Databases databases, PgTools tools, Path workDir) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new SyncActivitiesImpl(databases, new InitialCopy(databases, tools, workDir.resolve("sync"))),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        new VerifyActivitiesImpl(databases));
    return env;
  }

  private static CompletableFuture<Void> startApplying(TestActivityEnvironment env, SyncRequest request) {
    // The worker caps heartbeat throttling at 1 s (a cancel reaches the apply within about a
    // second); TestActivityEnvironment has no worker options, and a 1.25 s heartbeat timeout
    // gives the same 1 s (the SDK throttles at 80 % of the timeout).
    ActivityOptions options =
        ActivityOptions.newBuilder(once(ActivityCatalog.syncApply())).setHeartbeatTimeout(Duration.ofMillis(1250)).build();
    SyncActivities apply = env.newActivityStub(SyncActivities.class, options);
    return CompletableFuture.runAsync(() -> apply.applyChanges(request));
  }

  private static ActivityOptions once(ActivityOptions options) {
    return ActivityOptions.newBuilder(options).setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()).build();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  /** 1 % of them changed (the lowest oids), 10 created, 10 removed (the highest); returns how many changed in all. */
  private static long changeLargeObjects(Databases databases, int count) throws java.sql.SQLException {
    int changed = Math.max(1, count / 100);
    try (java.sql.Connection c = databases.connect(databases.resolve(Databases.SOURCE, SOURCE_REF), "ferry-bench");
        java.sql.Statement st = c.createStatement()) {
      st.execute(
          "SELECT lo_put(oid, 100, convert_to('changed before the freeze', 'UTF8')) FROM"
              + " (SELECT oid FROM pg_largeobject_metadata ORDER BY oid LIMIT " + changed + ") o");
      st.execute("SELECT lo_unlink(oid) FROM (SELECT oid FROM pg_largeobject_metadata ORDER BY oid DESC LIMIT 10) o");
      st.execute("SELECT lo_from_bytea(0, convert_to(repeat(md5(g::text), 256), 'UTF8')) FROM generate_series(1, 10) g");
    }
    return changed + 20;
  }

  private static void print(String name, double value) {
    System.out.printf(Locale.ROOT, "%s %.3f%n", name, value);
  }

  private static void print(String name, long value) {
    System.out.printf(Locale.ROOT, "%s %d%n", name, value);
  }
}

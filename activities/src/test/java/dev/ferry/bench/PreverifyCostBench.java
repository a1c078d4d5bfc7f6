package dev.ferry.bench;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.activities.sync.SyncChangeFeeds;
import dev.ferry.activity.PreverifyActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import dev.ferry.options.ActivityCatalog;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the pre-verification costs the source while it runs: pgbench's throughput (as many
 * transactions as it can, {@code --clients} sessions) with the sync applying, first without the
 * pre-verification, then with a fresh one proving chunks, then without again, {@code --rounds}
 * times (A, B, A, B, A), {@code --window} seconds each. The pre-verification runs as the worker wires it ({@link
 * PreverifyActivitiesImpl.Settings#DEFAULT}: its throttle), under Temporal's {@link
 * TestActivityEnvironment}. Started by {@code bench/preverify-cost.sh}.
 *
 * <p>Arguments: {@code --method trigger|logical --work-dir DIR --window S --clients N --rounds R
 * --share F --pgbench PATH --source-db NAME --source-port P} ({@code --share}: another throttle
 * than the worker's, to explore). References: {@code env:BENCH_SOURCE_URL}, {@code
 * env:BENCH_TARGET_URL}. Prints {@code name value} lines.
 */
public final class PreverifyCostBench {
  private static final String SOURCE_REF = "env:BENCH_SOURCE_URL";
  private static final String TARGET_REF = "env:BENCH_TARGET_URL";
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");

  private PreverifyCostBench() {}

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
    Path workDir = null;
    int window = 60;
    int clients = 4;
    String pgbench = "pgbench";
    String sourceDb = null;
    String sourcePort = "5433";
    int rounds = 2;
    double share = PreverifyActivitiesImpl.Settings.DEFAULT.share();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--method" -> method = args[i + 1];
        case "--work-dir" -> workDir = Path.of(args[i + 1]);
        case "--window" -> window = Integer.parseInt(args[i + 1]);
        case "--clients" -> clients = Integer.parseInt(args[i + 1]);
        case "--pgbench" -> pgbench = args[i + 1];
        case "--source-db" -> sourceDb = args[i + 1];
        case "--source-port" -> sourcePort = args[i + 1];
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--share" -> share = Double.parseDouble(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (workDir == null || sourceDb == null) {
      throw new IllegalArgumentException("usage: --work-dir DIR --source-db NAME [--method M] [--window S] [--clients N]");
    }
    Databases databases =
        new Databases(new SecretResolver(System.getenv(), () -> {
          throw new IllegalStateException("the bench resolves env: references only");
        }, dev.ferry.activities.secrets.SecretPolicy.of(SOURCE_REF + "," + TARGET_REF)));
    PgTools tools = PgTools.locate(System.getenv());
    DatabasePair pair = new DatabasePair(SOURCE_REF, TARGET_REF);
    SyncRequest sync =
        new SyncRequest(UUID.randomUUID().toString(), pair, method, 2, SyncSpec.LOGICAL.equals(method) ? SyncSpec.PER_RUN_ROLE : null);
    List<TestActivityEnvironment> environments = new ArrayList<>();
    PreverifyActivitiesImpl.Settings d = PreverifyActivitiesImpl.Settings.DEFAULT;
    PreverifyActivitiesImpl.Settings settings =
        new PreverifyActivitiesImpl.Settings(share, d.waitLimit(), d.idle(), d.keysPerCheck(), d.chunksPerCheck(), d.strikes(), d.jobs(), d.pause());
    print("preverify.share", share);
    TestActivityEnvironment env = environment(databases, tools, workDir, environments, settings);
    SyncActivities control = env.newActivityStub(SyncActivities.class, once(ActivityCatalog.syncControl()));
    PreverifyActivities measure = env.newActivityStub(PreverifyActivities.class, once(ActivityCatalog.syncControl()));
    List<String> pgbenchCommand =
        List.of(pgbench, "-n", "-c", Integer.toString(clients), "-j", "2", "-T", Integer.toString(window), "-p", sourcePort, sourceDb);
    try {
      env.newActivityStub(SyncActivities.class, once(ActivityCatalog.syncSetup())).startSync(sync);
      TestActivityEnvironment applyEnv = environment(databases, tools, workDir, environments, settings);
      SyncActivities apply = applyEnv.newActivityStub(SyncActivities.class, cancellable(ActivityCatalog.syncApply()));
      CompletableFuture<Void> applying = CompletableFuture.runAsync(() -> apply.applyChanges(sync));

      // Without, with, without, …: the machine's other load drifts, so the two alternate.
      List<Double> without = new ArrayList<>();
      List<Double> with = new ArrayList<>();
      without.add(tps(pgbenchCommand));
      print("pgbench.tps.without", without.get(0));
      print("sync.lag.seconds.after", control.measureLag(sync).lagMillis() / 1000.0);
      long provenBefore = 0;
      long rowsBefore = 0;
      long seconds = 0;
      for (int round = 0; round < rounds; round++) {
        // A fresh pre-verification each time: one resumed after a window without would first
        // take that window's changes in, a backlog it never has while it runs throughout.
        PreverifyRequest request = new PreverifyRequest(UUID.randomUUID().toString(), pair, sync);
        TestActivityEnvironment verifyEnv = environment(databases, tools, workDir, environments, settings);
        // A chunk's checksum may take seconds without a heartbeat: a longer timeout than the apply's.
        PreverifyActivities preverify =
            verifyEnv.newActivityStub(
                PreverifyActivities.class,
                ActivityOptions.newBuilder(once(ActivityCatalog.preverify(null))).setHeartbeatTimeout(Duration.ofSeconds(20)).build());
        CompletableFuture<Void> preverifying = CompletableFuture.runAsync(() -> preverify.preverifyWhileSyncing(request));
        PreverifyCoverage planned = awaitPlanned(measure, request);
        if (round == 0) {
          print("preverify.chunks", planned.chunks());
        }
        PreverifyCoverage before = measure.measurePreverification(request);
        with.add(tps(pgbenchCommand));
        PreverifyCoverage after = measure.measurePreverification(request);
        print("pgbench.tps.with", with.get(with.size() - 1));
        print("sync.lag.seconds.after", control.measureLag(sync).lagMillis() / 1000.0);
        print("preverify.chunks.proven", after.chunksProven());
        print("preverify.first-pass-done", after.firstPassDone() ? 1 : 0);
        provenBefore += after.chunksProven() - before.chunksProven();
        rowsBefore += after.rowsProven() - before.rowsProven();
        seconds += window;
        verifyEnv.requestCancelActivity();
        join(preverifying);
        measure.dropPreverification(request);
        without.add(tps(pgbenchCommand));
        print("pgbench.tps.without", without.get(without.size() - 1));
      }
      double meanWithout = without.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      double meanWith = with.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      print("pgbench.tps.without.mean", meanWithout);
      print("pgbench.tps.with.mean", meanWith);
      print("pgbench.tps.ratio.with-to-without", meanWith / meanWithout);
      print("preverify.chunks.proven.per.minute", provenBefore * 60.0 / seconds);
      print("preverify.rows.proven.per.second", rowsBefore / (double) seconds);

      applyEnv.requestCancelActivity();
      join(applying);
    } finally {
      try {
        control.stopSync(sync);
      } finally {
        environments.forEach(TestActivityEnvironment::close);
      }
    }
  }

  private static PreverifyCoverage awaitPlanned(PreverifyActivities measure, PreverifyRequest request) throws InterruptedException {
    while (true) {
      PreverifyCoverage c = measure.measurePreverification(request);
      if (c.planned()) {
        return c;
      }
      Thread.sleep(200);
    }
  }

  /** pgbench's throughput over its window (its own figure, without connection time). */
  private static double tps(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("pgbench failed: " + out);
    }
    Matcher m = TPS.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("no tps in pgbench's output: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  private static void join(CompletableFuture<Void> cancelled) {
    try {
      cancelled.join();
    } catch (RuntimeException expected) {
      // Cancelled, as asked.
    }
  }

  private static TestActivityEnvironment environment(
      Databases databases, PgTools tools, Path workDir, List<TestActivityEnvironment> environments,
      PreverifyActivitiesImpl.Settings settings) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new SyncActivitiesImpl(databases, new InitialCopy(databases, tools, workDir.resolve("sync"))),
        new PreverifyActivitiesImpl(databases, new SyncChangeFeeds(), settings));
    environments.add(env);
    return env;
  }

  private static ActivityOptions once(ActivityOptions options) {
    return ActivityOptions.newBuilder(options).setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()).build();
  }

  /** A background activity a cancel reaches within about a second (the worker's heartbeat throttle). */
  private static ActivityOptions cancellable(ActivityOptions options) {
    return ActivityOptions.newBuilder(once(options)).setHeartbeatTimeout(Duration.ofMillis(1250)).build();
  }

  private static void print(String name, double value) {
    System.out.printf(Locale.ROOT, "%s %.3f%n", name, value);
  }

  private static void print(String name, long value) {
    System.out.printf(Locale.ROOT, "%s %d%n", name, value);
  }
}

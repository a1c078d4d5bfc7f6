package dev.ferry.bench;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.RestoreActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.options.ActivityCatalog;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;

/**
 * Times Ferry's snapshot and restore activities on one pair of databases, wired as {@code
 * FerryWorker} wires them (same classes, the worker's environment for {@code env:} references,
 * {@code PgTools.locate}, the catalog's activity options) and run under Temporal's {@link
 * TestActivityEnvironment}. Started by {@code bench/snapshot-restore.sh}; never by surefire
 * (its name matches no test pattern).
 *
 * <p>Arguments: {@code --jobs N --work-dir DIR [--source-ref env:X] [--target-ref env:Y] [--verify]}. The
 * references default to {@code env:BENCH_SOURCE_URL} and {@code env:BENCH_TARGET_URL},
 * resolved from this process's environment, so no password is on a command line. The target
 * must exist and be empty. Prints {@code ferry.snapshot.seconds}, {@code ferry.restore.seconds}
 * and {@code ferry.total.seconds} lines on stdout (and {@code ferry.verify.seconds} with {@code
 * --verify}: Ferry's verification of the copy, which must find no difference); the snapshot is discarded afterwards
 * (untimed, as the plain tools' dump directory is).
 *
 * <p>The one difference from the worker: no retries. A failed attempt must fail the bench,
 * not be timed together with its retry's back-off.
 */
public final class SnapshotRestoreBench {
  private static final String HOST_QUEUE = "ferry-bench-host";

  private SnapshotRestoreBench() {}

  public static void main(String[] args) {
    int status = 1;
    try {
      run(args);
      status = 0;
    } catch (Exception e) {
      e.printStackTrace();
    }
    // TestActivityEnvironment leaves non-daemon timer threads behind: without this the JVM
    // never ends.
    System.exit(status);
  }

  private static void run(String[] args) throws Exception {
    int jobs = 0;
    Path workDir = null;
    String sourceRef = "env:BENCH_SOURCE_URL";
    String targetRef = "env:BENCH_TARGET_URL";
    boolean verify = false;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(required(args[i], value));
        case "--work-dir" -> workDir = Path.of(required(args[i], value));
        case "--source-ref" -> sourceRef = required(args[i], value);
        case "--target-ref" -> targetRef = required(args[i], value);
        case "--verify" -> {
          verify = true;
          continue;
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
      i++;
    }
    if (jobs < 1 || workDir == null) {
      throw new IllegalArgumentException("usage: --jobs N --work-dir DIR [--source-ref R] [--target-ref R] [--verify]");
    }

    Databases databases =
        new Databases(
            new SecretResolver(
                System.getenv(),
                () -> {
                  throw new IllegalStateException("the bench resolves env: references only");
                },
                dev.ferry.activities.secrets.SecretPolicy.of("env:*")));
    PgTools tools = PgTools.locate(System.getenv());
    SnapshotStore store = new SnapshotStore(workDir.resolve("snapshots"));
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(
          new SnapshotActivitiesImpl(databases, tools, store, HOST_QUEUE),
          new RestoreActivitiesImpl(databases, tools, store),
          new VerifyActivitiesImpl(databases));
      SnapshotActivities snapshots =
          env.newActivityStub(SnapshotActivities.class, once(ActivityCatalog.snapshot()));
      RestoreActivities restores =
          env.newActivityStub(
              RestoreActivities.class, once(ActivityCatalog.restore(HOST_QUEUE, ActivityCatalog.HOST_WAIT)));

      String key = UUID.randomUUID().toString();
      long t0 = System.nanoTime();
      Snapshot snapshot = snapshots.dumpDatabase(new SnapshotRequest(key, sourceRef, jobs));
      long t1 = System.nanoTime();
      RestoreResult restored =
          restores.restoreDatabase(new RestoreRequest("restore-" + key, snapshot, targetRef, jobs));
      long t2 = System.nanoTime();
      snapshots.discardSnapshot(snapshot);
      if (verify) {
        VerifyActivities verifier = env.newActivityStub(VerifyActivities.class, once(ActivityCatalog.verify()));
        long v0 = System.nanoTime();
        VerificationReport report =
            verifier.verifyDatabases(new VerifyRequest(new DatabasePair(sourceRef, targetRef), jobs));
        long v1 = System.nanoTime();
        if (report.mismatches() > 0) {
          throw new IllegalStateException("verification found differences: " + report.problems());
        }
        System.out.printf(Locale.ROOT, "ferry.verify.seconds %.3f%n", seconds(v1 - v0));
      }

      System.out.printf(Locale.ROOT, "ferry.snapshot.seconds %.3f%n", seconds(t1 - t0));
      System.out.printf(Locale.ROOT, "ferry.restore.seconds %.3f%n", seconds(t2 - t1));
      System.out.printf(Locale.ROOT, "ferry.total.seconds %.3f%n", seconds(t2 - t0));
      System.out.printf(
          Locale.ROOT, "ferry.tables %d%nferry.dump.bytes %d%n", restored.tables(), snapshot.bytes());
    } finally {
      env.close();
    }
  }

  private static ActivityOptions once(ActivityOptions options) {
    return ActivityOptions.newBuilder(options)
        .setRetryOptions(RetryOptions.newBuilder(options.getRetryOptions()).setMaximumAttempts(1).build())
        .build();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static String required(String flag, String value) {
    if (value == null) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return value;
  }
}

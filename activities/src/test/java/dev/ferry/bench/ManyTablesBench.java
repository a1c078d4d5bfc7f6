package dev.ferry.bench;

import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.testing.temporal.RealMigration;
import dev.ferry.testing.temporal.TemporalDevServer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Issue 15's 10,000 tables: migrates the source {@code bench/many-tables.sh} generated (500
 * tenant schemas × 20 tables) with one strategy through the real workflow and the real activities
 * on a real Temporal server ({@link RealMigration}, as {@code ManyTablesMigrationTest} does at
 * 120 and 600 tables), every gate approved as it opens, and prints what the run took of Temporal:
 * its time, the largest payload of its history, heartbeats and status queries, and its history's
 * length and size as the server counts them. Never run by surefire (its name matches no test
 * pattern).
 *
 * <p>Arguments: {@code --strategy single-phase|multi-phase --jobs N --work-dir DIR [--minutes M]}.
 * References: {@code env:BENCH_SOURCE_URL}, {@code env:BENCH_TARGET_URL}; the run ledger at
 * {@code BENCH_LEDGER_URL} (every comparison of the verify is written there). Prints {@code name
 * value} lines on stdout; exits 1 if the run did not succeed.
 */
public final class ManyTablesBench {
  private ManyTablesBench() {}

  public static void main(String[] args) {
    int status = 1;
    try {
      status = run(args) ? 0 : 1;
    } catch (Exception | AssertionError e) {
      e.printStackTrace();
    }
    System.exit(status);
  }

  private static boolean run(String[] args) {
    String strategy = null;
    int jobs = 2;
    Path workDir = null;
    int minutes = 30;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--strategy" -> strategy = args[i + 1];
        case "--jobs" -> jobs = Integer.parseInt(args[i + 1]);
        case "--work-dir" -> workDir = Path.of(args[i + 1]);
        case "--minutes" -> minutes = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (strategy == null || workDir == null) {
      throw new IllegalArgumentException("usage: --strategy single-phase|multi-phase --jobs N --work-dir DIR [--minutes M]");
    }
    Databases databases =
        new Databases(new SecretResolver(System.getenv(), () -> {
          throw new IllegalStateException("the bench resolves env: references only");
        }, SecretPolicy.of("env:BENCH_SOURCE_URL,env:BENCH_TARGET_URL")));
    LedgerDatabase ledger = LedgerDatabase.of(System.getenv("BENCH_LEDGER_URL"), System.getenv());
    ledger.migrate();
    try (TemporalDevServer server = TemporalDevServer.start();
        RealMigration migration = new RealMigration(server, databases, ledger, workDir)) {
      RealMigration.Outcome outcome =
          migration.run(
              RealMigration.runbook("tenants", strategy, "env:BENCH_SOURCE_URL", "env:BENCH_TARGET_URL", jobs), Duration.ofMinutes(minutes));
      RunStatus run = outcome.status();
      String name = strategy;
      System.out.print(outcome.lines(strategy));
      System.out.println(strategy + ".largest_payload_at " + outcome.largest().where().replace(' ', '_'));
      if (run.verification() != null) {
        System.out.println(strategy + ".verified_tables " + run.verification().tableCount());
        System.out.println(strategy + ".mismatches " + run.verification().mismatches());
      }
      System.out.println(strategy + ".activities_by_type " + outcome.activities().toString().replace(' ', '_'));
      run.steps().stream()
          .filter(s -> s.durationMillis() != null)
          .forEach(s -> System.out.println(name + ".step." + s.name().replace(':', '_') + ".seconds " + s.durationMillis() / 1000.0));
      System.out.println(strategy + ".state " + run.state());
      if (run.state() != RunState.SUCCEEDED) {
        System.err.println("the run did not succeed: " + run.failure());
        return false;
      }
      return true;
    }
  }
}

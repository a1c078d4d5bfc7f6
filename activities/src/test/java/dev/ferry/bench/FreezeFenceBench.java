package dev.ferry.bench;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalActivitiesImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.RehearsalActivities;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.util.Locale;
import java.util.Map;

/**
 * Times the freeze with its write fence on a source of many tables: the rehearsal's probe (the
 * same statements, rolled back), the freeze, a retried freeze (finds its fence), the unfreeze.
 * Makes its own database on the local source cluster ({@code --tables N --schemas S}) and drops
 * it. Never run by surefire (its name matches no test pattern); run it as bench/README.md says.
 * Prints {@code name value} lines.
 */
public final class FreezeFenceBench {
  private FreezeFenceBench() {}

  public static void main(String[] args) throws Exception {
    int tables = 1000;
    int schemas = 10;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--tables" -> tables = Integer.parseInt(args[i + 1]);
        case "--schemas" -> schemas = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    String db = TestCluster.uniqueDatabaseName("fencebench");
    TestCluster.SOURCE.createDatabase(db);
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      StringBuilder ddl = new StringBuilder();
      for (int s = 0; s < schemas; s++) {
        ddl.append("CREATE SCHEMA s").append(s).append(";");
      }
      for (int t = 0; t < tables; t++) {
        ddl.append("CREATE TABLE s").append(t % schemas).append(".t").append(t).append(" (id bigint PRIMARY KEY, v text);");
        if (t % 500 == 499) {
          TestCluster.SOURCE.execute(db, ddl.toString());
          ddl.setLength(0);
        }
      }
      if (ddl.length() > 0) {
        TestCluster.SOURCE.execute(db, ddl.toString());
      }
      Databases databases =
          new Databases(new SecretResolver(Map.of("SHOP_SOURCE_URL", TestCluster.SOURCE.url(db)), () -> {
            throw new IllegalStateException("no SSM");
          }));
      env.registerActivitiesImplementations(new FreezeActivitiesImpl(databases), new RehearsalActivitiesImpl(databases));
      FreezeActivities freeze = env.newActivityStub(FreezeActivities.class);
      RehearsalActivities rehearsal = env.newActivityStub(RehearsalActivities.class);
      String ref = "env:SHOP_SOURCE_URL";
      System.out.println("tables " + tables);
      System.out.println("schemas " + schemas);
      long t0 = System.nanoTime();
      String probe = rehearsal.probeFreeze(ref);
      print("probe_seconds", t0);
      System.out.println("probe " + probe);
      t0 = System.nanoTime();
      freeze.freezeSource(ref);
      print("freeze_seconds", t0);
      t0 = System.nanoTime();
      freeze.freezeSource(ref);
      print("freeze_again_seconds", t0);
      t0 = System.nanoTime();
      freeze.unfreezeSource(ref);
      print("unfreeze_seconds", t0);
    } finally {
      env.close();
      TestCluster.SOURCE.dropDatabase(db);
    }
    System.exit(0);
  }

  private static void print(String name, long startNanos) {
    System.out.println(name + " " + String.format(Locale.ROOT, "%.3f", (System.nanoTime() - startNanos) / 1e9));
  }
}

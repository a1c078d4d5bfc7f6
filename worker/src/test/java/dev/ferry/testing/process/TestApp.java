package dev.ferry.testing.process;

import dev.ferry.testing.postgres.TestCluster;
import java.sql.SQLException;

/**
 * An app to migrate in a process-level test: a loaded source database on the {@code heroku}
 * cluster, an empty target on the {@code rds} cluster, both with unique names, and the
 * references its runbook names them by ({@link StackEnvironment#withApp}).
 */
public record TestApp(String name, String source, String target) implements AutoCloseable {
  /** The tricky fixture (every trap of a Heroku database, a million-row table). */
  public static TestApp tricky(String name) throws Exception {
    TestApp app = named(name);
    TestCluster.SOURCE.createFromFixture(app.source, "fixtures/tricky.sql");
    TestCluster.TARGET.createDatabase(app.target);
    return app;
  }

  /** The shop, the writer's table and a million-row page_views ({@link KillFixtures#createBigShop}). */
  public static TestApp bigShop(String name) throws Exception {
    TestApp app = named(name);
    KillFixtures.createBigShop(app.source);
    TestCluster.TARGET.createDatabase(app.target);
    return app;
  }

  /** The sample shop and the writer's table. */
  public static TestApp shop(String name) throws Exception {
    TestApp app = named(name);
    KillFixtures.createShop(app.source);
    TestCluster.TARGET.createDatabase(app.target);
    return app;
  }

  private static TestApp named(String name) {
    return new TestApp(name, TestCluster.uniqueDatabaseName(name), TestCluster.uniqueDatabaseName(name));
  }

  /** Adds this app's databases to a stack's environment. */
  public StackEnvironment addTo(StackEnvironment env) {
    return env.withApp(name, TestCluster.SOURCE.url(source), TestCluster.TARGET.url(target));
  }

  public String sourceRef() {
    return StackEnvironment.sourceRef(name);
  }

  public String targetRef() {
    return StackEnvironment.targetRef(name);
  }

  /** A runbook's first lines: app, strategy, source, target, two jobs. */
  public String runbookHead(String strategy) {
    return "app: " + name + "\nstrategy: " + strategy + "\nsource: {databaseUrl: " + sourceRef() + "}\ntarget: {databaseUrl: "
        + targetRef() + "}\nsnapshot: {jobs: 2}\n";
  }

  /** {@link #runbookHead(String)} with {@code snapshot.method} set ({@code stream}, the default, or {@code dump}). */
  public String runbookHead(String strategy, String snapshotMethod) {
    return runbookHead(strategy).replace("snapshot: {jobs: 2}", "snapshot: {jobs: 2, method: " + snapshotMethod + "}");
  }

  @Override
  public void close() throws SQLException {
    TestCluster.SOURCE.dropDatabase(source);
    TestCluster.TARGET.dropDatabase(target);
  }
}

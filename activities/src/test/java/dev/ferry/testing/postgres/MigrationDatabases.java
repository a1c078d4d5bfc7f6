package dev.ferry.testing.postgres;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.model.database.DatabasePair;
import java.util.HashMap;
import java.util.Map;

/**
 * A migration's two databases on the local clusters: a loaded source (the sample shop, or the
 * tricky fixture) and an empty target, reached through {@code env:SHOP_SOURCE_URL} and {@code
 * env:SHOP_TARGET_URL} as a runbook would name them.
 */
public final class MigrationDatabases implements AutoCloseable {
  public static final String SOURCE_REF = "env:SHOP_SOURCE_URL";
  public static final String TARGET_REF = "env:SHOP_TARGET_URL";

  public final String source;
  public final String target;

  private MigrationDatabases(String source, String target) {
    this.source = source;
    this.target = target;
  }

  /** Creates both databases and loads the sample shop into the source. */
  public static MigrationDatabases shop() throws Exception {
    MigrationDatabases dbs =
        new MigrationDatabases(TestCluster.uniqueDatabaseName("shop"), TestCluster.uniqueDatabaseName("shop"));
    TestCluster.SOURCE.createDatabase(dbs.source);
    TestCluster.SOURCE.loadSampleShop(dbs.source);
    TestCluster.TARGET.createDatabase(dbs.target);
    return dbs;
  }

  /**
   * Creates both databases, the source a copy of the tricky fixture ({@code fixtures/tricky.sql}:
   * every trap of a real Heroku database, and a table of over a million rows).
   */
  public static MigrationDatabases tricky() throws Exception {
    MigrationDatabases dbs =
        new MigrationDatabases(TestCluster.uniqueDatabaseName("tricky"), TestCluster.uniqueDatabaseName("tricky"));
    TestCluster.SOURCE.createFromFixture(dbs.source, "fixtures/tricky.sql");
    TestCluster.TARGET.createDatabase(dbs.target);
    return dbs;
  }

  /** Creates both databases empty: the test fills the source. */
  public static MigrationDatabases empty(String prefix) throws Exception {
    MigrationDatabases dbs =
        new MigrationDatabases(TestCluster.uniqueDatabaseName(prefix), TestCluster.uniqueDatabaseName(prefix));
    TestCluster.SOURCE.createDatabase(dbs.source);
    TestCluster.TARGET.createDatabase(dbs.target);
    return dbs;
  }

  /**
   * Creates both databases, the source a schema-per-tenant app ({@link TenantSchemas}); with
   * {@code targetToo}, the target holds the same (as after a faithful copy), else it is empty.
   */
  public static MigrationDatabases tenants(TenantSchemas tenants, boolean targetToo) throws Exception {
    MigrationDatabases dbs =
        new MigrationDatabases(TestCluster.uniqueDatabaseName("tenants"), TestCluster.uniqueDatabaseName("tenants"));
    tenants.createOn(TestCluster.SOURCE, dbs.source);
    if (targetToo) {
      tenants.createOn(TestCluster.TARGET, dbs.target);
    } else {
      TestCluster.TARGET.createDatabase(dbs.target);
    }
    return dbs;
  }

  /** Drops and recreates the target, empty. */
  public void resetTarget() throws Exception {
    TestCluster.TARGET.dropDatabase(target);
    TestCluster.TARGET.createDatabase(target);
  }

  public Map<String, String> environment() {
    Map<String, String> env = new HashMap<>();
    env.put("SHOP_SOURCE_URL", TestCluster.SOURCE.url(source));
    env.put("SHOP_TARGET_URL", TestCluster.TARGET.url(target));
    return env;
  }

  public DatabasePair references() {
    return new DatabasePair(SOURCE_REF, TARGET_REF);
  }

  /**
   * Databases resolving references from {@link #environment()} (plus any extra variables), with
   * the worker's default allow-list widened by exactly the extra variables' names.
   */
  public Databases databases(Map<String, String> extraEnvironment) {
    Map<String, String> env = environment();
    env.putAll(extraEnvironment);
    StringBuilder allowed = new StringBuilder(SecretPolicy.DEFAULT);
    extraEnvironment.keySet().forEach(name -> allowed.append(",env:").append(name));
    return new Databases(
        new SecretResolver(env, () -> {
          throw new IllegalStateException("no SSM in this test");
        }, SecretPolicy.of(allowed.toString())));
  }

  @Override
  public void close() throws Exception {
    TestCluster.SOURCE.dropDatabase(source);
    TestCluster.TARGET.dropDatabase(target);
  }
}

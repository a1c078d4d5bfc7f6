package dev.ferry.api.testing;

import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.db.RunLedger;
import dev.ferry.testing.postgres.TestCluster;
import io.dropwizard.jackson.Jackson;
import java.sql.SQLException;
import java.util.Map;

/**
 * A ledger database of the test's own, with a unique name on the local "rds" cluster, migrated;
 * dropped on close. The clusters are shared: never anything but this database is touched.
 */
public final class TestLedger implements AutoCloseable {
  private final String name;
  private final LedgerDatabase database;
  private final RunLedger ledger;

  private TestLedger(String name) {
    this.name = name;
    this.database = LedgerDatabase.of(url(name), Map.of());
    database.migrate();
    this.ledger = new RunLedger(database, FerryApplication.configure(Jackson.newObjectMapper()));
  }

  public static TestLedger create() {
    String name = TestCluster.uniqueDatabaseName("ferry_ledger_test");
    try {
      TestCluster.TARGET.createDatabase(name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return new TestLedger(name);
  }

  public String url() {
    return url(name);
  }

  private static String url(String name) {
    return TestCluster.TARGET.url(name);
  }

  public RunLedger ledger() {
    return ledger;
  }

  public LedgerDatabase database() {
    return database;
  }

  /** {runs, events}: a refused request must leave both as they were. */
  public long[] counts() {
    try {
      return ledger.counts();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      TestCluster.TARGET.dropDatabase(name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

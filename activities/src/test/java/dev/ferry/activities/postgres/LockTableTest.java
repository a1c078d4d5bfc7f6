package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** The preflight's warning for a source whose lock table cannot hold a dump of all its tables. */
class LockTableTest {
  @Test
  void tenThousandTablesAndTheirSequences_onALockTableOf64x200_warnWithTheSettingToRaise() {
    // What bench/many-tables.sh met on the dev clusters: pg_dump failed with out of shared memory.
    String warning = new LockTable(20_000, 64 * 200, 64).warning("ferry@db:5432/tenants");

    assertThat(warning)
        .startsWith("ferry@db:5432/tenants has 20000 tables and sequences")
        .contains("holds about 12800 locks", "out of shared memory", "raise max_locks_per_transaction to at least 200 ");
  }

  @Test
  void aSourceUsingUnderHalfItsLockTable_getsNoWarning() {
    assertThat(new LockTable(6_400, 64 * 200, 64).warning("db")).isNull();
    assertThat(new LockTable(6_401, 64 * 200, 64).warning("db")).isNotNull();
  }

  @Test
  void readFromTheServer_countsTablesAndSequences_andTheLockTablesSize() throws Exception {
    String database = TestCluster.uniqueDatabaseName("locks");
    TestCluster.SOURCE.createDatabase(database);
    try {
      TestCluster.SOURCE.execute(database, "CREATE SCHEMA a", "CREATE TABLE a.t (id bigserial PRIMARY KEY, v text)", "CREATE TABLE u (id int)");
      try (Connection c = TestCluster.SOURCE.connect(database)) {
        LockTable locks = LockTable.read(c);

        // Two tables and one sequence; the index and the TOAST table are not counted.
        assertThat(locks.relations()).isEqualTo(3);
        assertThat(locks.slots()).isEqualTo(TestCluster.SOURCE.queryLong(database,
            "SELECT current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int"
                + " + current_setting('max_prepared_transactions')::int)"));
        assertThat(locks.warning("db")).isNull();
      }
    } finally {
      TestCluster.SOURCE.dropDatabase(database);
    }
  }
}

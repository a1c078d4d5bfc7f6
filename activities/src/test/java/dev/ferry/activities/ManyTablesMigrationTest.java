package dev.ferry.activities;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TenantSchemas;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.temporal.RealMigration;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.temporal.common.converter.DefaultDataConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's 10,000 tables at a size the suite can afford: a schema-per-tenant source
 * ({@link TenantSchemas}: bigserial keys, so a sequence per table, foreign keys, three rows a
 * table) migrated with each strategy through the real workflow and the real activities on a real
 * Temporal server ({@link RealMigration}), at 120 and at 600 tables. What Temporal carries for
 * the run (the largest payload of its history, heartbeats and status queries) must not grow from
 * one size to the other by more than a few digits' worth, and the history stays small. The full
 * size is {@code bench/many-tables.sh}.
 */
class ManyTablesMigrationTest {
  static final TenantSchemas SMALL = new TenantSchemas(6, 20, 3);
  static final TenantSchemas LARGE = new TenantSchemas(30, 20, 3);
  /**
   * How much a payload may grow from 120 to 600 tables: counts gain digits and the verify's
   * bitmap of tables done gains 60 bytes; anything listed per table grows by far more (the 480
   * more tables' names alone are over 12 KiB).
   */
  static final int GROWTH = 1024;
  /** Far under Temporal's limits (2 MB a payload, 50 MB and 51,200 events a history). */
  static final int PAYLOAD_BOUND = 64 * 1024;
  static final int HISTORY_BYTES_BOUND = 512 * 1024;
  static final int HISTORY_EVENTS_BOUND = 1_000;

  static TemporalDevServer server;
  static String ledgerName;
  static LedgerDatabase ledger;
  @TempDir Path workDir;

  @BeforeAll
  static void start() throws Exception {
    server = TemporalDevServer.start();
    ledgerName = TestCluster.uniqueDatabaseName("ferry_ledger_many");
    TestCluster.TARGET.createDatabase(ledgerName);
    ledger = LedgerDatabase.of(TestCluster.TARGET.url(ledgerName), Map.of());
    ledger.migrate();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    TestCluster.TARGET.dropDatabase(ledgerName);
  }

  @Test
  void singlePhase_ofSixHundredTables_carriesNoMoreThroughTemporalThanOfOneHundredTwenty() throws Exception {
    RealMigration.Outcome small = migrate(SMALL, "single-phase");
    RealMigration.Outcome large = migrate(LARGE, "single-phase");

    assertMigrated(small, SMALL);
    assertMigrated(large, LARGE);
    assertDoesNotGrow(small, large);
    // No step of a single-phase run repeats per table: the same activities whatever the size.
    assertThat(large.activities()).isEqualTo(small.activities());
    // The default method: the streamed copy, its report the verify step's.
    assertThat(large.activities()).containsKeys("HoldSnapshot", "CopyTables", "VerifyCopy").doesNotContainKeys("DumpDatabase", "VerifyDatabases");
    // Every table's comparison is in the run ledger, beyond the 50 the report could name.
    assertThat(ledgerRows("SELECT count(*) FROM verification_objects WHERE kind = 'table' AND run_id = '" + large.runId() + "'"))
        .isEqualTo(LARGE.tables());
    assertThat(large.status().verification().totals().detail()).contains("/api/runs/" + large.runId() + "/verification");
  }

  @Test
  void multiPhaseTrigger_ofSixHundredTables_carriesNoMoreThroughTemporalThanOfOneHundredTwenty() throws Exception {
    RealMigration.Outcome small = migrate(SMALL, "multi-phase");
    RealMigration.Outcome large = migrate(LARGE, "multi-phase");

    assertMigrated(small, SMALL);
    assertMigrated(large, LARGE);
    assertThat(large.status().sync().tables()).isEqualTo(LARGE.tables());
    assertDoesNotGrow(small, large);
    // The same activities whatever the size, but for the polls while waiting for the sync and the
    // pre-verification to catch up (one a second: how many depends on how long that takes).
    assertThat(withoutPolls(large.activities())).isEqualTo(withoutPolls(small.activities())).containsEntry("PreverifyWhileSyncing", 1L);
  }

  RealMigration.Outcome migrate(TenantSchemas tenants, String strategy) throws Exception {
    try (MigrationDatabases dbs = MigrationDatabases.tenants(tenants, false);
        RealMigration migration = new RealMigration(server, dbs.databases(Map.of()), ledger, workDir)) {
      RealMigration.Outcome outcome =
          migration.run(
              RealMigration.runbook("tenants", strategy, MigrationDatabases.SOURCE_REF, MigrationDatabases.TARGET_REF, 2),
              Duration.ofMinutes(3));
      // Before the databases go: what the target holds.
      assertThat(outcome.status().state()).as(outcome.status().failure()).isEqualTo(RunState.SUCCEEDED);
      assertThat(TestCluster.TARGET.queryLong(dbs.target, "SELECT count(*) FROM " + TenantSchemas.schema(tenants.schemas()) + ".exports"))
          .isEqualTo(tenants.rowsPerTable());
      return outcome;
    }
  }

  static void assertMigrated(RealMigration.Outcome outcome, TenantSchemas tenants) {
    RunStatus status = outcome.status();
    assertThat(status.verification().mismatches()).isZero();
    assertThat(status.verification().tableCount()).isEqualTo(tenants.tables());
    assertThat(status.verification().sequenceCount()).isEqualTo(tenants.tables());
    assertThat(status.verification().rowsOnSource()).isEqualTo((long) tenants.tables() * tenants.rowsPerTable());
    // Over 50 tables and none differs: the report names none, it counts them.
    assertThat(status.verification().tables()).isEmpty();
    assertThat(outcome.largest().bytes()).as(outcome.largest().where()).isLessThan(PAYLOAD_BOUND);
    assertThat(outcome.historyBytes()).isLessThan(HISTORY_BYTES_BOUND);
    assertThat(outcome.historyEvents()).isLessThan(HISTORY_EVENTS_BOUND);
    assertThat(outcome.heartbeats()).as("heartbeats measured").isPositive();
  }

  static void assertDoesNotGrow(RealMigration.Outcome small, RealMigration.Outcome large) {
    assertThat(large.largest().bytes())
        .as("largest payload at %d tables (%s) against %d tables (%s)", LARGE.tables(), large.largest(), SMALL.tables(), small.largest())
        .isLessThanOrEqualTo(small.largest().bytes() + GROWTH);
    assertThat(large.largestHeartbeat()).as("largest heartbeat").isLessThanOrEqualTo(small.largestHeartbeat() + GROWTH);
    assertThat(large.largestQuery()).as("largest query result").isLessThanOrEqualTo(small.largestQuery() + GROWTH);
    // The bound has teeth: a list of the tables the large run has more of would exceed it many times.
    List<String> more =
        IntStream.rangeClosed(SMALL.schemas() + 1, LARGE.schemas())
            .boxed()
            .flatMap(s -> IntStream.range(0, LARGE.tablesPerSchema()).mapToObj(t -> TenantSchemas.schema(s) + "." + TenantSchemas.table(t)))
            .toList();
    assertThat(DefaultDataConverter.newDefaultInstance().toPayload(more).orElseThrow().getSerializedSize()).isGreaterThan(10 * GROWTH);
  }

  static Map<String, Long> withoutPolls(Map<String, Long> activities) {
    Map<String, Long> rest = new java.util.TreeMap<>(activities);
    rest.remove("MeasureLag");
    rest.remove("MeasurePreverification");
    return rest;
  }

  static long ledgerRows(String sql) throws Exception {
    try (var c = ledger.connect();
        var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

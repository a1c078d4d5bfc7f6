package dev.ferry.activities.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreflightActivitiesImpl;
import dev.ferry.activities.postgres.RestoreActivitiesImpl;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalReport.PhaseTiming;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.workflow.RehearsalWorkflow;
import dev.ferry.workflow.RehearsalWorkflowImpl;
import dev.ferry.workflow.Tuning;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rehearsal workflow with the real activities, against the local clusters and a real ledger:
 * the sample shop restored into a scratch database and verified, with the production target
 * database closed to connections the whole time.
 */
class RehearsalAgainstRealClustersTest {
  static final String QUEUE = "ferry";
  static final String HOST_QUEUE = "ferry-host-rehearsal-test";

  @TempDir Path workDir;
  MigrationDatabases shop;
  String ledgerName;
  LedgerDatabase ledger;
  TestWorkflowEnvironment env;
  String rehearsalId;
  volatile boolean failRestoreAfterItRan;

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    ledgerName = TestCluster.uniqueDatabaseName("ferry_ledger_test");
    TestCluster.TARGET.createDatabase(ledgerName);
    ledger = LedgerDatabase.of(TestCluster.TARGET.url(ledgerName), Map.of());
    ledger.migrate();
    // A rehearsal that connected to the production target database would fail on this.
    TestCluster.TARGET.execute("postgres", "ALTER DATABASE " + shop.target + " ALLOW_CONNECTIONS false");
    rehearsalId = "rehearsal-shop-" + RehearsalActivitiesTest.randomHex();

    Databases databases = shop.databases(Map.of());
    PgTools tools = PgTools.locate(System.getenv());
    SnapshotStore store = new SnapshotStore(workDir.resolve("snapshots"));
    SnapshotActivitiesImpl snapshots = new SnapshotActivitiesImpl(databases, tools, store, HOST_QUEUE);
    RestoreActivitiesImpl restore = new RestoreActivitiesImpl(databases, tools, store);
    env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance());
    Worker worker = env.newWorker(QUEUE);
    worker.registerWorkflowImplementationFactory(
        RehearsalWorkflow.class,
        () -> new RehearsalWorkflowImpl(new Tuning(Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofSeconds(30))));
    worker.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        snapshots,
        new VerifyActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        new RehearsalActivitiesImpl(databases),
        new RehearsalLedgerActivitiesImpl(ledger),
        new LedgerActivitiesImpl(ledger));
    Worker host = env.newWorker(HOST_QUEUE);
    host.registerActivitiesImplementations(snapshots, (RestoreActivities) request -> restoreThenMaybeFail(restore, request));
    env.start();
  }

  /** The real restore; then, when the test says so, a failure as if pg_restore had died at the end. */
  private RestoreResult restoreThenMaybeFail(RestoreActivitiesImpl restore, RestoreRequest request) {
    RestoreResult result = restore.restoreDatabase(request);
    if (failRestoreAfterItRan) {
      throw ApplicationFailure.newNonRetryableFailure("pg_restore: error: could not write to the disk", Errors.RESTORE_FAILED);
    }
    return result;
  }

  @AfterEach
  void tearDown() throws Exception {
    env.close();
    TestCluster.TARGET.execute("postgres", "ALTER DATABASE " + shop.target + " ALLOW_CONNECTIONS true");
    shop.close();
    TestCluster.TARGET.dropDatabase(ledgerName);
  }

  RehearsalReport rehearse() {
    Runbook runbook =
        RunbookParser.parse(
            """
            app: shop
            strategy: single-phase
            source:
              databaseUrl: env:SHOP_SOURCE_URL
            target:
              databaseUrl: env:SHOP_TARGET_URL
            snapshot:
              jobs: 2
            """);
    RehearsalWorkflow run =
        env.getWorkflowClient()
            .newWorkflowStub(RehearsalWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(rehearsalId).build());
    WorkflowClient.start(run::rehearse, new RehearsalRequest(runbook, "olivia", null, true));
    return WorkflowStub.fromTyped(run).getResult(RehearsalReport.class);
  }

  String scratchName() {
    return "ferry_rehearsal_" + rehearsalId.substring(rehearsalId.length() - 8);
  }

  long scratchDatabasesLeft() throws Exception {
    return TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + scratchName() + "'");
  }

  long productionTargetTables() throws Exception {
    TestCluster.TARGET.execute("postgres", "ALTER DATABASE " + shop.target + " ALLOW_CONNECTIONS true");
    return TestCluster.TARGET.queryLong(shop.target,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'");
  }

  @Test
  void aRehearsal_reportsEveryPhase_leavesNoScratchDatabase_andNeverTouchesTheProductionTarget() throws Exception {
    RehearsalReport report = rehearse();

    assertThat(report.errors()).isEmpty();
    assertThat(report.succeeded()).isTrue();
    assertThat(report.phases()).extracting(PhaseTiming::phase)
        .containsExactly("overlap-check", "create-scratch", "preflight", "freeze-probe", "snapshot", "restore", "verify",
            "sync-sequences", "discard-snapshot", "drop-scratch");
    assertThat(report.phases()).allSatisfy(p -> assertThat(p.state()).as(p.phase() + ": " + p.detail()).isEqualTo(PhaseTiming.SUCCEEDED));
    assertThat(report.verification()).startsWith("MATCH");
    assertThat(report.rows()).isEqualTo(101_500);
    assertThat(report.bytes()).isPositive();
    assertThat(report.estimatedDowntime()).isPositive();
    assertThat(report.estimateBasis()).startsWith("single-phase: freeze");
    assertThat(scratchDatabasesLeft()).isZero();
    assertThat(productionTargetTables()).isZero();
    assertThat(workDir.resolve("snapshots").toFile().list()).satisfiesAnyOf(
        l -> assertThat(l).isNull(), l -> assertThat(l).isEmpty());

    // The ledger holds the report and the run, ended.
    RehearsalReportStore store = new RehearsalReportStore(ledger);
    assertThat(store.find(rehearsalId)).contains(report);
    assertThat(store.activeRuns("shop")).isEmpty();
    try (Connection c = ledger.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT kind, state, ended_at IS NOT NULL FROM runs WHERE run_id = '" + rehearsalId + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("rehearsal");
      assertThat(rs.getString(2)).isEqualTo("SUCCEEDED");
      assertThat(rs.getBoolean(3)).isTrue();
    }
  }

  @Test
  void aRehearsalThatFailsMidway_stillLeavesNoScratchDatabase_andItsReportSaysWhere() throws Exception {
    failRestoreAfterItRan = true;

    RehearsalReport report = rehearse();

    assertThat(report.succeeded()).isFalse();
    assertThat(report.errors()).singleElement().asString().contains("restore", "could not write to the disk");
    assertThat(report.phases()).filteredOn(p -> p.phase().equals("restore")).singleElement()
        .satisfies(p -> assertThat(p.state()).isEqualTo(PhaseTiming.FAILED));
    assertThat(report.phases()).filteredOn(p -> p.phase().equals("drop-scratch")).singleElement()
        .satisfies(p -> assertThat(p.state()).isEqualTo(PhaseTiming.SUCCEEDED));
    assertThat(scratchDatabasesLeft()).isZero();
    assertThat(productionTargetTables()).isZero();
    assertThat(new RehearsalReportStore(ledger).find(rehearsalId)).hasValueSatisfying(r -> assertThat(r.outcome()).isEqualTo("failed"));
  }
}

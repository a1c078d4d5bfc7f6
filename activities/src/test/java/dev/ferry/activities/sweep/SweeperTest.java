package dev.ferry.activities.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.copy.CopyActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.ledger.TemporalRuns;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.rehearsal.RehearsalActivitiesImpl;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.activities.sync.SyncChangeFeeds;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep against the real clusters and a real ledger, with runs made by Ferry's own
 * activities under their own workflow ids: a running run keeps everything; a run the ledger shows
 * ended loses its logical sync (publication, slot, subscription, bookkeeping, its replication
 * role), scratch database and old dumps; a run the ledger shows running that Temporal no longer
 * runs (its worker or server died with it) loses its capture triggers and scratch database; what
 * no ledger run can be found for is left and reported.
 */
@Timeout(300)
class SweeperTest {
  static final String QUEUE = "sweep-test";

  @TempDir Path workDir;
  TestWorkflowEnvironment temporal;
  WorkflowClient client;
  String ledgerName;
  LedgerDatabase ledger;
  final Map<String, String> environment = new HashMap<>();
  final List<String> sourceDatabases = new ArrayList<>();
  final List<String> targetDatabases = new ArrayList<>();
  final List<String> roles = new ArrayList<>();
  final List<String> scratchByHand = new ArrayList<>();
  Databases databases;
  SnapshotStore snapshots;
  Sweeper sweeper;

  @BeforeEach
  void setUp() throws Exception {
    ledgerName = TestCluster.uniqueDatabaseName("ferry_ledger_sweep");
    TestCluster.TARGET.createDatabase(ledgerName);
    ledger = LedgerDatabase.of(TestCluster.TARGET.url(ledgerName), Map.of());
    ledger.migrate();
    snapshots = new SnapshotStore(workDir.resolve("snapshots"));
  }

  /** The worker's side, once every run's databases are in the environment (the resolver copies it). */
  private void startTemporal() {
    databases =
        new Databases(new SecretResolver(environment, () -> {
          throw new IllegalStateException("no SSM in this test");
        }, SecretPolicy.of("env:SWEEP_*")));
    // Real time: nothing here waits for a timer, and a clock the test server may jump while the
    // test waits for a run's result must not touch the run that stays running.
    temporal =
        TestWorkflowEnvironment.newInstance(
            io.temporal.testing.TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build());
    Worker worker = temporal.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(LeftoverMaker.Impl.class, CopyLeftoverMaker.Impl.class);
    worker.registerActivitiesImplementations(
        new CopyActivitiesImpl(databases, PgTools.locate(System.getenv()), workDir.resolve("copy")),
        new SyncActivitiesImpl(databases, new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"))),
        new RehearsalActivitiesImpl(databases),
        new PreverifyActivitiesImpl(databases, new SyncChangeFeeds(), PreverifyActivitiesImpl.Settings.DEFAULT));
    temporal.start();
    client = temporal.getWorkflowClient();
    sweeper =
        new Sweeper(ledger, databases, id -> TemporalRuns.isRunning(client, id), snapshots, workDir.resolve("sync"),
            Sweeper.DUMP_GRACE, Clock.systemUTC());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (temporal != null) {
      temporal.close();
    }
    for (String db : scratchByHand) {
      quietly(() -> TestCluster.TARGET.dropDatabase(db));
    }
    for (String target : targetDatabases) {
      // A subscription the sweep failed to drop would keep its database.
      quietly(() -> dropSubscriptionsIn(target));
      quietly(() -> TestCluster.TARGET.dropDatabase(target));
    }
    for (String source : sourceDatabases) {
      quietly(() -> TestCluster.SOURCE.execute(
          source, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active"));
      quietly(() -> TestCluster.SOURCE.dropDatabase(source));
    }
    for (String role : roles) {
      quietly(() -> TestCluster.SOURCE.execute("postgres", "DROP ROLE IF EXISTS " + role));
    }
    TestCluster.TARGET.dropDatabase(ledgerName);
  }

  @Test
  void aRunningRunKeepsEverything_anEndedRunsAndADeadRunsLeftoversGo_whatNoRunOwnsIsLeftAndReported() throws Exception {
    String running = "migration-sweep-" + hex(4);
    String ended = "migration-sweep-" + hex(4);
    String dead = "migration-sweep-" + hex(4);
    String ghost = "migration-ghost-" + hex(4);
    prepare(running);
    prepare(ended);
    prepare(dead);
    startTemporal();

    // The running run: trigger capture and a scratch database, waiting at its gate.
    WorkflowStub runningRun = make(running, SyncSpec.TRIGGER, true);
    // The run whose worker died with it: the ledger still says RUNNING, Temporal runs nothing.
    WorkflowStub deadRun = make(dead, SyncSpec.TRIGGER, true);
    deadRun.terminate("the worker and the embedded server died");
    // The run that ended without its teardown: a logical sync and a scratch database.
    WorkflowStub endedRun = make(ended, SyncSpec.LOGICAL, false);
    endedRun.getResult(Void.class);
    String endedTag = tagOf(ended);
    String endedVerify = verifySchemas(target(ended)).get(0);
    assertThat(captureSchemas(source(ended))).containsExactly("ferry_sync_" + endedTag + "_keys");
    String runningTag = tagOf(running);
    String deadTag = tagOf(dead);
    // The logical sync logged in as a role made for the run (dropped here if the sweep does not).
    String endedRole = "ferry_repl_" + endedTag;
    roles.add(endedRole);
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + endedRole + "'")).isOne();
    record(running, "RUNNING", null);
    record(dead, "RUNNING", null);
    record(ended, "FAILED", Instant.now());

    // What no run in the ledger owns: an uncommented capture schema, a scratch database naming a
    // run the ledger never heard of, a replication role whose tag nothing else carries.
    String anonymousSchema = "ferry_sync_" + hex(6);
    TestCluster.SOURCE.execute(source(running), "CREATE SCHEMA " + anonymousSchema);
    String ghostScratch = "ferry_rehearsal_" + hex(4);
    scratchByHand.add(ghostScratch);
    TestCluster.TARGET.execute("postgres", "CREATE DATABASE " + ghostScratch,
        "COMMENT ON DATABASE " + ghostScratch + " IS 'Ferry run " + ghost + ": a rehearsal''s scratch database; dropped when it ends'");
    String strayRole = "ferry_repl_" + hex(6);
    createRole(strayRole);

    // Dumps: old ones of the ended run, a fresh one of it, the running run's, a stranger's.
    Path endedOld = dump(ended, Duration.ofHours(2));
    Path endedFresh = dump(ended, Duration.ZERO);
    Path runningDump = dump(running, Duration.ofHours(2));
    Path ghostDump = dump(ghost, Duration.ofHours(2));

    // The sweep decides from Temporal's answer: the test's premise is that Temporal runs it.
    assertThat(status(running)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    SweepReport report = sweeper.sweep();

    // The running run keeps everything.
    assertThat(captureSchemas(source(running))).containsExactlyInAnyOrder(anonymousSchema, "ferry_sync_" + runningTag);
    assertThat(TestCluster.SOURCE.queryLong(source(running), "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_capture\\_%'")).isEqualTo(2);
    assertThat(scratchExists(running)).isTrue();
    assertThat(verifySchemas(target(running))).hasSize(1);
    assertThat(TestCluster.TARGET.queryLong(target(running), "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_verify\\_%'")).isEqualTo(2);
    assertThat(runningDump).exists();
    assertThat(report.removed()).noneMatch(e -> e.why().contains(running));

    // The ended run's logical sync, role, scratch database and old dump are gone.
    assertThat(TestCluster.SOURCE.queryLong(source(ended), "SELECT count(*) FROM pg_publication")).isZero();
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ferry_slot_" + endedTag + "'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ferry_sync_" + endedTag + "_keys'"))
        .as("the key capture's slot, which holds the source's WAL").isZero();
    assertThat(TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_subscription WHERE subname = 'ferry_sub_" + endedTag + "'")).isZero();
    assertThat(captureSchemas(target(ended))).isEmpty();
    // Its pre-verification: the key capture on the source, the proofs and write capture on the target.
    assertThat(captureSchemas(source(ended))).isEmpty();
    assertThat(TestCluster.SOURCE.queryLong(source(ended), "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")).isZero();
    assertThat(verifySchemas(target(ended))).isEmpty();
    assertThat(TestCluster.TARGET.queryLong(target(ended), "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")).isZero();
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + endedRole + "'")).isZero();
    assertThat(scratchExists(ended)).isFalse();
    assertThat(endedOld).doesNotExist();
    assertThat(endedFresh).exists();
    assertThat(report.removed())
        .filteredOn(e -> e.why().equals("run " + ended + " ended (FAILED in the ledger)"))
        .extracting(SweepReport.Entry::what)
        .contains(
            "subscription ferry_sub_" + endedTag, "publication ferry_pub_" + endedTag, "replication slot ferry_slot_" + endedTag,
            "sync schema ferry_sync_" + endedTag, "replication role " + endedRole, "scratch database " + scratchName(ended),
            "dump " + endedOld.getFileName(), "key capture ferry_sync_" + endedTag + "_keys", "pre-verification " + endedVerify);

    // The dead run's capture triggers and scratch database are gone; its tables are the app's.
    assertThat(captureSchemas(source(dead))).isEmpty();
    assertThat(TestCluster.SOURCE.queryLong(source(dead), "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_capture\\_%'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(source(dead), "SELECT count(*) FROM items")).isEqualTo(100);
    assertThat(scratchExists(dead)).isFalse();
    assertThat(verifySchemas(target(dead))).isEmpty();
    assertThat(report.removed())
        .filteredOn(e -> e.why().contains("Temporal has no running workflow"))
        .extracting(SweepReport.Entry::what)
        .contains("sync schema ferry_sync_" + deadTag, "scratch database " + scratchName(dead))
        .anySatisfy(what -> assertThat(what).startsWith("pre-verification ferry_verify_"));

    // What no run owns is left, and said so.
    assertThat(TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + ghostScratch + "'")).isOne();
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + strayRole + "'")).isOne();
    assertThat(ghostDump).exists();
    assertThat(report.left())
        .anySatisfy(e -> assertThat(e.toString()).contains("sync schema " + anonymousSchema, "cannot tell which run made it"))
        .anySatisfy(e -> assertThat(e.toString()).contains("scratch database " + ghostScratch, "run " + ghost + " is not in the ledger"))
        .anySatisfy(e -> assertThat(e.toString()).contains("replication role " + strayRole, "cannot tell which run made it"))
        .anySatisfy(e -> assertThat(e.toString()).contains("dumps of " + ghost, "not in the ledger"))
        .anySatisfy(e -> assertThat(e.toString()).contains("dumps of " + ended, "younger than 60 min"));

    // Once the running run ends, the next sweep takes what it left.
    runningRun.signal("finish");
    runningRun.getResult(Void.class);
    record(running, "SUCCEEDED", Instant.now());
    SweepReport next = sweeper.sweep();

    assertThat(captureSchemas(source(running))).containsExactly(anonymousSchema);
    assertThat(TestCluster.SOURCE.queryLong(source(running), "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_capture\\_%'")).isZero();
    assertThat(scratchExists(running)).isFalse();
    assertThat(verifySchemas(target(running))).isEmpty();
    assertThat(runningDump).doesNotExist();
    assertThat(next.removed()).extracting(SweepReport.Entry::why).allMatch(why -> why.equals("run " + running + " ended (SUCCEEDED in the ledger)"));
  }

  @Test
  void aStreamingCopysBookkeeping_goesWithItsEndedRun_andStaysWithARunningOne() throws Exception {
    String running = "migration-sweep-" + hex(4);
    String ended = "migration-sweep-" + hex(4);
    prepare(running);
    prepare(ended);
    startTemporal();
    WorkflowStub runningRun = makeCopy(running, true);
    makeCopy(ended, false).getResult(Void.class);
    record(running, "RUNNING", null);
    record(ended, "FAILED", Instant.now());
    String endedCopy = copySchemas(target(ended)).get(0);
    assertThat(copySchemas(target(running))).hasSize(1);

    SweepReport report = sweeper.sweep();

    assertThat(copySchemas(target(running))).hasSize(1);
    assertThat(copySchemas(target(ended))).isEmpty();
    // The rows and tables it copied are the target's (claimed by the run, as a restore's): kept.
    assertThat(TestCluster.TARGET.queryLong(target(ended), "SELECT count(*) FROM pg_tables WHERE tablename = 'items'")).isOne();
    assertThat(report.removed())
        .filteredOn(e -> e.why().equals("run " + ended + " ended (FAILED in the ledger)"))
        .extracting(SweepReport.Entry::what)
        .containsExactly("streaming copy " + endedCopy);
    assertThat(report.removed()).noneMatch(e -> e.why().contains(running));

    runningRun.signal("finish");
    runningRun.getResult(Void.class);
    record(running, "SUCCEEDED", Instant.now());
    sweeper.sweep();
    assertThat(copySchemas(target(running))).isEmpty();
  }

  @Test
  void aRunTemporalCannotBeAskedAbout_keepsWhatItOwns() throws Exception {
    String run = "migration-sweep-" + hex(4);
    prepare(run);
    startTemporal();
    make(run, SyncSpec.TRIGGER, true);
    // Kept by the sweep, and the run never ends here: the tear-down drops it.
    scratchByHand.add(scratchName(run));
    record(run, "RUNNING", null);
    String tag = tagOf(run);
    Sweeper blind =
        new Sweeper(ledger, databases, id -> {
          throw new IllegalStateException("UNAVAILABLE: io exception");
        }, snapshots, workDir.resolve("sync"), Sweeper.DUMP_GRACE, Clock.systemUTC());

    SweepReport report = blind.sweep();

    assertThat(captureSchemas(source(run))).containsExactly("ferry_sync_" + tag);
    assertThat(scratchExists(run)).isTrue();
    assertThat(report.removed()).isEmpty();
  }

  // --- Runs -------------------------------------------------------------------------------

  /** A database pair of the run's own, named in the environment as SWEEP_<hex>_SOURCE_URL / _TARGET_URL. */
  private void prepare(String runId) throws SQLException {
    String label = runId.substring(runId.lastIndexOf('-') + 1).toUpperCase();
    String source = TestCluster.uniqueDatabaseName("sweep_src");
    String target = TestCluster.uniqueDatabaseName("sweep_tgt");
    TestCluster.SOURCE.createDatabase(source);
    sourceDatabases.add(source);
    TestCluster.TARGET.createDatabase(target);
    targetDatabases.add(target);
    TestCluster.SOURCE.execute(source, "CREATE TABLE items (id int PRIMARY KEY, name text)",
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g");
    environment.put("SWEEP_" + label + "_SOURCE_URL", TestCluster.SOURCE.url(source));
    environment.put("SWEEP_" + label + "_TARGET_URL", TestCluster.TARGET.url(target));
    pairs.put(runId, new String[] {source, target});
  }

  /** The run's status per Temporal (as the sweeper asks it). */
  private WorkflowExecutionStatus status(String runId) {
    return client
        .getWorkflowServiceStubs()
        .blockingStub()
        .describeWorkflowExecution(
            io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder().setWorkflowId(runId))
                .build())
        .getWorkflowExecutionInfo()
        .getStatus();
  }

  /** Starts a run on its pair and waits until it installed everything. */
  private WorkflowStub make(String runId, String method, boolean stayRunning) {
    String label = runId.substring(runId.lastIndexOf('-') + 1).toUpperCase();
    LeftoverMaker maker =
        client.newWorkflowStub(LeftoverMaker.class, WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(QUEUE).build());
    WorkflowClient.start(maker::make, method, "env:SWEEP_" + label + "_SOURCE_URL", "env:SWEEP_" + label + "_TARGET_URL", stayRunning);
    Eventually.get("run " + runId + " to install its objects", maker::stage, "made"::equals, Duration.ofSeconds(120));
    return WorkflowStub.fromTyped(maker);
  }

  /** Starts a run whose streaming copy is planned and never ended, and waits until it is. */
  private WorkflowStub makeCopy(String runId, boolean stayRunning) {
    String label = runId.substring(runId.lastIndexOf('-') + 1).toUpperCase();
    CopyLeftoverMaker maker =
        client.newWorkflowStub(CopyLeftoverMaker.class, WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(QUEUE).build());
    WorkflowClient.start(maker::make, "env:SWEEP_" + label + "_SOURCE_URL", "env:SWEEP_" + label + "_TARGET_URL", stayRunning);
    Eventually.get("run " + runId + " to plan its copy", maker::stage, "made"::equals, Duration.ofSeconds(120));
    return WorkflowStub.fromTyped(maker);
  }

  private static List<String> copySchemas(String database) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = TestCluster.TARGET.connect(database);
        ResultSet rs = c.createStatement().executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_copy\\_%'")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  private final Map<String, String[]> pairs = new HashMap<>();

  private String source(String runId) {
    return pairs.get(runId)[0];
  }

  private String target(String runId) {
    return pairs.get(runId)[1];
  }

  /** The ledger's row of a run, as the API writes it (its runbook holds the references). */
  private void record(String runId, String state, Instant endedAt) throws SQLException {
    String label = runId.substring(runId.lastIndexOf('-') + 1).toUpperCase();
    String runbook =
        "{\"app\": \"shop\", \"source\": {\"databaseUrl\": \"env:SWEEP_" + label + "_SOURCE_URL\"},"
            + " \"target\": {\"databaseUrl\": \"env:SWEEP_" + label + "_TARGET_URL\"}}";
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                INSERT INTO runs (run_id, kind, app, started_by, started_via, runbook, state, created_at, updated_at, ended_at)
                VALUES (?, 'migration', 'shop', 'olivia', 'api', ?::jsonb, ?, now(), now(), ?)
                ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at
                """)) {
      s.setString(1, runId);
      s.setString(2, runbook);
      s.setString(3, state);
      s.setTimestamp(4, endedAt == null ? null : Timestamp.from(endedAt));
      s.executeUpdate();
    }
  }

  /** The sync tag of a run: its schema's suffix on the source (trigger) or its publication's (logical). */
  private String tagOf(String runId) throws SQLException {
    String name =
        string(TestCluster.SOURCE, source(runId),
            "SELECT coalesce((SELECT pubname FROM pg_publication LIMIT 1), (SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_sync\\_%' AND obj_description(oid, 'pg_namespace') LIKE 'Ferry run %' LIMIT 1))");
    return name.substring(name.lastIndexOf('_') + 1);
  }

  private static String scratchName(String runId) {
    return "ferry_rehearsal_" + runId.substring(runId.lastIndexOf('-') + 1);
  }

  private boolean scratchExists(String runId) throws SQLException {
    return TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + scratchName(runId) + "'") == 1;
  }

  private static List<String> captureSchemas(String database) throws SQLException {
    List<String> names = new ArrayList<>();
    TestCluster cluster = database.startsWith("sweep_src") ? TestCluster.SOURCE : TestCluster.TARGET;
    try (Connection c = cluster.connect(database);
        ResultSet rs = c.createStatement().executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_sync\\_%'")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  private static List<String> verifySchemas(String database) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = TestCluster.TARGET.connect(database);
        ResultSet rs = c.createStatement().executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_verify\\_%'")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  private Path dump(String runId, Duration age) throws Exception {
    Path dir = snapshots.root().resolve(runId).resolve(java.util.UUID.randomUUID().toString());
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("toc.dat"), "production rows");
    FileTime when = FileTime.from(Instant.now().minus(age));
    Files.setLastModifiedTime(dir.resolve("toc.dat"), when);
    Files.setLastModifiedTime(dir, when);
    return dir;
  }

  private void createRole(String role) throws SQLException {
    roles.add(role);
    TestCluster.SOURCE.execute("postgres", "CREATE ROLE " + role + " NOLOGIN");
  }

  private static void dropSubscriptionsIn(String database) throws SQLException {
    List<String> subs = new ArrayList<>();
    try (Connection c = TestCluster.TARGET.connect(database);
        ResultSet rs = c.createStatement().executeQuery(
            "SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
      while (rs.next()) {
        subs.add(rs.getString(1));
      }
    }
    for (String sub : subs) {
      TestCluster.TARGET.execute(database, "ALTER SUBSCRIPTION " + sub + " DISABLE", "ALTER SUBSCRIPTION " + sub + " SET (slot_name = NONE)",
          "DROP SUBSCRIPTION " + sub);
    }
  }

  private static String string(TestCluster cluster, String database, String sql) throws SQLException {
    try (Connection c = cluster.connect(database);
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void quietly(Step step) {
    try {
      step.run();
    } catch (Exception e) {
      // Clean-up after a failed test: the failure itself is what matters.
    }
  }
}

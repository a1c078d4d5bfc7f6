package dev.ferry.workflow;

import dev.ferry.options.ActivityCatalog;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeEdge;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Replays recorded histories of finished runs against today's workflow code: a change that
 * would break a run in flight fails here, on every build. To add histories (after a change
 * guarded by {@code Workflow.getVersion}), run with {@code -Dferry.recordHistories=true} and
 * commit the new files.
 */
class MigrationWorkflowReplayTest {
  static final Path HISTORIES = Path.of("src/test/resources/histories");

  @Test
  void everyRecordedHistoryReplaysWithTheCurrentCode() throws Exception {
    List<Path> files;
    try (Stream<Path> list = Files.list(HISTORIES)) {
      files = list.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(files).as("golden histories in " + HISTORIES).hasSizeGreaterThanOrEqualTo(17);
    for (Path file : files) {
      try {
        WorkflowReplayer.replayWorkflowExecution(
            WorkflowExecutionHistory.fromJson(Files.readString(file)), MigrationWorkflowImpl.class);
      } catch (Exception | AssertionError e) {
        throw new AssertionError(file.getFileName() + " does not replay", e);
      }
    }
  }

  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordGoldenHistories() throws Exception {
    Runbook single = Runbooks.shop();
    Runbook multi = Runbooks.shopMultiPhase();
    record("single-phase-approved", single, (d, e) -> {}, gates(approve("start"), approve("decommission")));
    record("single-phase-rejected", single, (d, e) -> {}, gates(reject("start")));
    record(
        "single-phase-approved-by-signal",
        single,
        (d, e) -> {},
        (env, run) -> {
          awaitGate(env, run, "start");
          WorkflowStub.fromTyped(run).signal(MigrationWorkflow.DECISION_SIGNAL, approve("start"));
          gates(approve("decommission")).accept(env, run);
        });
    record("single-phase-gate-deadline", Runbooks.shopWithStartGate("timeout: 2h\napprovers: [arjun]"), (d, e) -> {}, gates());
    record(
        "single-phase-cancelled-at-gate",
        single,
        (d, e) -> {},
        (env, run) -> {
          awaitGate(env, run, "start");
          WorkflowStub.fromTyped(run).cancel();
        });
    record(
        "single-phase-restore-failed-compensated",
        single,
        (d, e) -> d.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED),
        gates(approve("start")));
    record(
        "single-phase-verification-failed",
        single,
        (d, e) ->
            d.verification =
                VerificationReport.of(
                    List.of(
                        new TableComparison(
                            "public.orders", 2, 1, "primary key range", 1, 1,
                            List.of(new ChunkMismatch("all rows", 2, 1)), false)),
                    List.of(),
                    List.of()),
        gates(approve("start")));
    record("single-phase-snapshot-host-lost", single, (d, e) -> d.snapshotsOnHosts("ferry-host-gone"), gates(approve("start"), approve("decommission")));
    record(
        "single-phase-decommission-rejected-rolled-back",
        single,
        (d, e) -> {},
        gates(approve("start"), reject("decommission"), approve("rollback")));
    record("single-phase-edge-approved", Runbooks.shopWithEdge(), (d, e) -> {}, gates(approve("start"), approve("decommission")));
    record(
        "single-phase-edge-smoke-failed-rolled-back",
        Runbooks.shopWithEdge(),
        (d, e) -> e.smokeFailsFromWeight = 50,
        gates(approve("start"), approve("rollback")));
    record(
        "multi-phase-approved",
        multi,
        (d, e) -> d.lags.addAll(List.of(120_000L, 45_000L, 5_000L)),
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record("multi-phase-cutover-rejected", multi, (d, e) -> {}, gates(approve("start"), reject("cutover")));
    record(
        "multi-phase-drain-failed-compensated",
        multi,
        (d, e) -> d.drainFailure = ApplicationFailure.newNonRetryableFailure("changes keep arriving", Errors.STEP_FAILED),
        gates(approve("start"), approve("cutover")));
    // The streaming copy (StreamCopy.VERSION): the default method of runs begun after it.
    record("stream-copy-single-phase-approved", single, (d, e) -> {}, gates(approve("start"), approve("decommission")));
    record(
        "stream-copy-single-phase-snapshot-lost",
        single,
        (d, e) -> d.snapshotsLost = 1,
        gates(approve("start"), approve("decommission")));
    record(
        "stream-copy-single-phase-chunk-differs-compensated",
        single,
        (d, e) ->
            d.copyFailure =
                ApplicationFailure.newNonRetryableFailure(
                    "public.orders: rows differ on the target after 3 copies: id > 10000 and id <= 20000",
                    Errors.VERIFICATION_FAILED),
        gates(approve("start")));
    record(
        "stream-copy-single-phase-dump-method",
        Runbooks.shopWithDump(),
        (d, e) -> {},
        gates(approve("start"), approve("decommission")));
    record(
        "stream-copy-multi-phase-approved",
        multi,
        (d, e) -> d.lags.addAll(List.of(120_000L, 45_000L, 5_000L)),
        gates(approve("start"), approve("cutover"), approve("decommission")));
    // The snapshot's holder on the loop queue (StreamCopy.HOLDER_LOOP).
    record(
        "stream-copy-holder-loop-single-phase-approved", single, (d, e) -> {}, gates(approve("start"), approve("decommission")));
    record(
        "stream-copy-holder-loop-single-phase-snapshot-lost",
        single,
        (d, e) -> d.snapshotsLost = 1,
        gates(approve("start"), approve("decommission")));
    record(
        "stream-copy-holder-loop-multi-phase-approved",
        multi,
        (d, e) -> d.lags.addAll(List.of(120_000L, 45_000L, 5_000L)),
        gates(approve("start"), approve("cutover"), approve("decommission")));
    // Since the write fence (Migration.WRITE_FENCE): the freeze's undo lifts the fence even where
    // the source was read-only before the run.
    record("write-fence-single-phase-approved", single, (d, e) -> {}, gates(approve("start"), approve("decommission")));
    record(
        "write-fence-single-phase-read-only-source-restore-failed",
        single,
        (d, e) -> {
          d.sourceReadOnly = true;
          d.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
        },
        gates(approve("start")));
    record(
        "write-fence-multi-phase-drain-failed-compensated",
        multi,
        (d, e) -> d.drainFailure = ApplicationFailure.newNonRetryableFailure("changes keep arriving", Errors.STEP_FAILED),
        gates(approve("start"), approve("cutover")));
    // MultiPhase.SYNC_CHECK_AND_ROLE: the sync's own preflight check, the logical run's login.
    Runbook logical =
        dev.ferry.model.runbook.RunbookParser.parse(Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical"));
    record(
        MultiPhase.SYNC_CHECK_AND_ROLE + "-logical-approved",
        logical,
        (d, e) -> {
          d.lags.addAll(List.of(120_000L, 5_000L));
          d.syncWarnings = List.of("2 large object(s) carried at the drain");
        },
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record(
        MultiPhase.SYNC_CHECK_AND_ROLE + "-refused-at-preflight",
        multi,
        (d, e) -> d.syncRefusals = List.of("tables without a primary key: public.audit_log", "unreadable large objects: oid 16400"),
        gates());
    record(
        "multi-phase-cancelled-at-cutover",
        multi,
        (d, e) -> {},
        (env, run) -> {
          gates(approve("start")).accept(env, run);
          awaitGate(env, run, "cutover");
          WorkflowStub.fromTyped(run).cancel();
        });
  }

  /**
   * Runs that pre-verify (change id {@link Preverification#VERSION}): recorded with {@code
   * -Dferry.recordOnly=preverify}.
   */
  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordPreverifyHistories() throws Exception {
    Runbook multi = Runbooks.shopMultiPhase();
    record(
        "preverify-multi-phase-approved",
        multi,
        (d, e) -> {
          d.lags.addAll(List.of(120_000L, 45_000L, 5_000L));
          d.coverages.clear();
          d.coverages.addAll(List.of(FakeDatabases.coverage(7, 3, 3), FakeDatabases.coverage(7, 7, 7)));
        },
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record("preverify-multi-phase-cutover-rejected", multi, (d, e) -> {}, gates(approve("start"), reject("cutover")));
    record(
        "preverify-multi-phase-verify-failed-compensated",
        multi,
        (d, e) ->
            d.verification =
                VerificationReport.of(
                    List.of(
                        new TableComparison(
                            "public.products", 500, 500, "primary key range, pre-verified", 1, 1,
                            List.of(new ChunkMismatch("id = 7", -1, -1)), false)),
                    List.of(),
                    List.of()),
        gates(approve("start"), approve("cutover")));
    record(
        "preverify-multi-phase-cancelled-at-cutover",
        multi,
        (d, e) -> {},
        (env, run) -> {
          gates(approve("start")).accept(env, run);
          awaitGate(env, run, "cutover");
          WorkflowStub.fromTyped(run).cancel();
        });
  }

  /**
   * Pre-verifying runs as they run since main's write fence, per-run replication role and search
   * attributes were merged beside the pre-verification (every change id of both at version 1):
   * recorded with {@code -Dferry.recordOnly=preverify-fenced}.
   */
  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordPreverifyFencedHistories() throws Exception {
    Runbook multi = Runbooks.shopMultiPhase();
    record(
        "preverify-fenced-multi-phase-approved",
        multi,
        (d, e) -> {
          d.lags.addAll(List.of(120_000L, 45_000L, 5_000L));
          d.coverages.clear();
          d.coverages.addAll(List.of(FakeDatabases.coverage(7, 3, 3), FakeDatabases.coverage(7, 7, 7)));
        },
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record("preverify-fenced-multi-phase-cutover-rejected", multi, (d, e) -> {}, gates(approve("start"), reject("cutover")));
  }

  /**
   * Runs whose apply loop and pre-verification are on the loop queue (change id {@link
   * MultiPhase#LOOP_QUEUE}, beside every other at version 1): recorded with {@code
   * -Dferry.recordOnly=loop-queue}.
   */
  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordLoopQueueHistories() throws Exception {
    Runbook multi = Runbooks.shopMultiPhase();
    record(
        "loop-queue-multi-phase-approved",
        multi,
        (d, e) -> {
          d.lags.addAll(List.of(120_000L, 45_000L, 5_000L));
          d.coverages.clear();
          d.coverages.addAll(List.of(FakeDatabases.coverage(7, 3, 3), FakeDatabases.coverage(7, 7, 7)));
        },
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record("loop-queue-multi-phase-cutover-rejected", multi, (d, e) -> {}, gates(approve("start"), reject("cutover")));
  }

  /**
   * Runs whose step pre-verify also ends on few changed rows (change id {@link
   * Preverification#FEW_FOR_THE_FREEZE}, beside every other at version 1), here rows too hot to
   * settle: recorded with {@code -Dferry.recordOnly=preverify-few}.
   */
  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordFewForTheFreezeHistories() throws Exception {
    record(
        "preverify-few-for-the-freeze-multi-phase-approved",
        Runbooks.shopMultiPhase(),
        (d, e) -> {
          d.coverages.clear();
          d.coverages.addAll(List.of(FakeDatabases.coverage(7, 3, 3), FakeDatabases.coverage(7, 7, 7, 12, 120_000)));
        },
        gates(approve("start"), approve("cutover"), approve("decommission")));
  }

  /**
   * Runs whose drain sets the sequences itself (change id {@link MultiPhase#DRAIN_SYNCS_SEQUENCES},
   * beside every other at version 1), approved, and failed at the sequences (a compensated freeze):
   * recorded with {@code -Dferry.recordOnly=drain-syncs-sequences}.
   */
  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordDrainSyncsSequencesHistories() throws Exception {
    Runbook multi = Runbooks.shopMultiPhase();
    record(
        "drain-syncs-sequences-multi-phase-approved",
        multi,
        (d, e) -> {},
        gates(approve("start"), approve("cutover"), approve("decommission")));
    record(
        "drain-syncs-sequences-multi-phase-sequence-missing-compensated",
        multi,
        (d, e) -> d.sequenceFailure = ApplicationFailure.newNonRetryableFailure("target lacks public.orders_id_seq", Errors.SEQUENCE_MISSING),
        gates(approve("start"), approve("cutover")));
  }

  /** Decides each gate, in order, as it opens (time moves on meanwhile); the rest are left to their deadlines. */
  private static BiConsumer<TestWorkflowEnvironment, MigrationWorkflow> gates(GateDecision... decisions) {
    return (env, run) -> {
      for (GateDecision d : decisions) {
        awaitGate(env, run, d.gate());
        run.decide(d);
      }
    };
  }

  private static void awaitGate(TestWorkflowEnvironment env, MigrationWorkflow run, String gate) {
    WorkflowTestBase.awaitGateSkippingTime(env, run, gate);
  }

  private static GateDecision approve(String gate) {
    return new GateDecision(gate, Verdict.APPROVE, "arjun", "recorded for replay");
  }

  private static GateDecision reject(String gate) {
    return new GateDecision(gate, Verdict.REJECT, "arjun", "recorded for replay");
  }

  private static void record(
      String name, Runbook runbook, BiConsumer<FakeDatabases, FakeEdge> setUp, BiConsumer<TestWorkflowEnvironment, MigrationWorkflow> script)
      throws IOException {
    // -Dferry.recordOnly=multi-phase records those alone, keeping the others as they were.
    String only = System.getProperty("ferry.recordOnly");
    if (only != null && !name.startsWith(only)) {
      return;
    }
    try (TestWorkflowEnvironment env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance())) {
      FakeDatabases databases = new FakeDatabases();
      FakeEdge edge = new FakeEdge(databases);
      setUp.accept(databases, edge);
      Worker worker = env.newWorker("ferry");
      worker.registerWorkflowImplementationFactory(MigrationWorkflow.class, () -> new MigrationWorkflowImpl(WorkflowTestBase.TUNING));
      worker.registerActivitiesImplementations(databases, edge);
      env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
      env.newWorker(ActivityCatalog.loopQueue("ferry")).registerActivitiesImplementations(databases);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      MigrationWorkflow run =
          client.newWorkflowStub(
              MigrationWorkflow.class,
              WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId("migration-shop-" + name).build());
      WorkflowClient.start(run::run, new MigrationRequest(runbook, "olivia"));
      script.accept(env, run);
      try {
        WorkflowStub.fromTyped(run).getResult(RunStatus.class);
      } catch (RuntimeException expectedForFailedRuns) {
        // The failed run's history is what we want.
      }
      Files.writeString(
          HISTORIES.resolve(name + ".json"), client.fetchHistory("migration-shop-" + name).toJson(true));
    }
  }
}

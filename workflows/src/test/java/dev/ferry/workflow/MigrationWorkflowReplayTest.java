package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    assertThat(files).as("golden histories in " + HISTORIES).hasSizeGreaterThanOrEqualTo(8);
    for (Path file : files) {
      WorkflowReplayer.replayWorkflowExecution(
          WorkflowExecutionHistory.fromJson(Files.readString(file)), MigrationWorkflowImpl.class);
    }
  }

  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordGoldenHistories() throws Exception {
    record("single-phase-approved", databases -> {}, run -> run.decide(decision(Verdict.APPROVE)));
    record("single-phase-rejected", databases -> {}, run -> run.decide(decision(Verdict.REJECT)));
    record(
        "single-phase-approved-by-signal",
        databases -> {},
        run -> WorkflowStub.fromTyped(run).signal(MigrationWorkflow.DECISION_SIGNAL, decision(Verdict.APPROVE)));
    record("single-phase-gate-deadline", databases -> {}, run -> {});
    record("single-phase-cancelled-at-gate", databases -> {}, run -> WorkflowStub.fromTyped(run).cancel());
    record(
        "single-phase-restore-failed",
        databases ->
            databases.restoreFailure =
                ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED),
        run -> run.decide(decision(Verdict.APPROVE)));
    record(
        "single-phase-verification-failed",
        databases ->
            databases.verification =
                VerificationReport.of(
                    List.of(
                        new TableComparison(
                            "public.orders", 2, 1, "primary key range", 1, 1,
                            List.of(new ChunkMismatch("all rows", 2, 1)), false)),
                    List.of(),
                    List.of()),
        run -> run.decide(decision(Verdict.APPROVE)));
    record(
        "single-phase-snapshot-host-lost",
        databases -> databases.snapshotsOnHosts("ferry-host-gone"),
        run -> run.decide(decision(Verdict.APPROVE)));
  }

  private static GateDecision decision(Verdict verdict) {
    return new GateDecision("start", verdict, "arjun", "recorded for replay");
  }

  private static void record(String name, Consumer<FakeDatabases> setUp, Consumer<MigrationWorkflow> decide)
      throws IOException {
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      FakeDatabases databases = new FakeDatabases();
      setUp.accept(databases);
      Worker worker = env.newWorker("ferry");
      // A short wait for a lost host: the test server cannot skip time over an unstarted task.
      worker.registerWorkflowImplementationFactory(
          MigrationWorkflow.class, () -> new MigrationWorkflowImpl(Duration.ofSeconds(2)));
      worker.registerActivitiesImplementations(databases);
      env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      MigrationWorkflow run =
          client.newWorkflowStub(
              MigrationWorkflow.class,
              WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId("migration-shop-" + name).build());
      WorkflowClient.start(run::run, new MigrationRequest(Runbooks.shopWithStartGate("timeout: 2h\napprovers: [arjun]"), "olivia"));
      Eventually.get("the start gate", run::status, s -> s.pendingGate() != null);
      decide.accept(run);
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

package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeEdge;
import dev.ferry.testing.FakeRehearsals;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded rehearsals ({@code histories/rehearsal/}) replay against today's {@code
 * RehearsalWorkflowImpl} on every build. The recorder also writes a migration whose cutover
 * budget was overridden into {@code histories/}, which {@link MigrationWorkflowReplayTest}
 * replays with the others. Record with {@code -Dferry.recordHistories=true}.
 */
class RehearsalReplayTest {
  static final Path REHEARSALS = MigrationWorkflowReplayTest.HISTORIES.resolve("rehearsal");

  @Test
  void everyRecordedRehearsalReplaysWithTheCurrentCode() throws Exception {
    List<Path> files;
    try (Stream<Path> list = Files.list(REHEARSALS)) {
      files = list.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(files).as("rehearsal histories in " + REHEARSALS).hasSizeGreaterThanOrEqualTo(3);
    for (Path file : files) {
      WorkflowReplayer.replayWorkflowExecution(
          WorkflowExecutionHistory.fromJson(Files.readString(file)), RehearsalWorkflowImpl.class);
    }
  }

  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordGoldenHistories() throws Exception {
    Files.createDirectories(REHEARSALS);
    rehearsal("rehearsal-succeeded", (d, r) -> { });
    rehearsal("rehearsal-restore-failed", (d, r) -> d.restoreFailure =
        ApplicationFailure.newNonRetryableFailure("pg_restore: error: out of disk", Errors.RESTORE_FAILED));
    rehearsal("rehearsal-skipped", (d, r) -> r.active.add(
        new dev.ferry.model.rehearsal.ActiveRun("migration-shop-00000001", dev.ferry.model.RunKind.MIGRATION, "RUNNING", java.time.Instant.EPOCH)));
    budgetOverridden();
  }

  private interface SetUp {
    void apply(FakeDatabases databases, FakeRehearsals rehearsals);
  }

  private static void rehearsal(String name, SetUp setUp) throws IOException {
    try (TestWorkflowEnvironment env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance())) {
      FakeDatabases databases = new FakeDatabases();
      FakeRehearsals rehearsals = new FakeRehearsals();
      setUp.apply(databases, rehearsals);
      Worker worker = env.newWorker("ferry");
      worker.registerWorkflowImplementationFactory(RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(WorkflowTestBase.TUNING));
      worker.registerActivitiesImplementations(databases, rehearsals);
      env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String id = "rehearsal-shop-" + Integer.toHexString(name.hashCode() | 0x10000000);
      RehearsalWorkflow run =
          client.newWorkflowStub(RehearsalWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId(id).build());
      WorkflowClient.start(run::rehearse, new RehearsalRequest(Runbooks.shop(), "olivia", null, true));
      WorkflowStub.fromTyped(run).getResult(RehearsalReport.class);
      Files.writeString(REHEARSALS.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
    }
  }

  /** A single-phase migration whose start gate refused on its budget and was overridden. */
  private static void budgetOverridden() throws IOException {
    try (TestWorkflowEnvironment env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance())) {
      FakeDatabases databases = new FakeDatabases();
      Worker worker = env.newWorker("ferry");
      worker.registerWorkflowImplementationFactory(MigrationWorkflow.class, () -> new MigrationWorkflowImpl(WorkflowTestBase.TUNING));
      worker.registerActivitiesImplementations(databases, new FakeEdge(databases), new FakeRehearsals());
      env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String id = "migration-shop-budget-overridden";
      MigrationWorkflow run =
          client.newWorkflowStub(MigrationWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId(id).build());
      WorkflowClient.start(run::run, new MigrationRequest(RunbookParser.parse(Runbooks.SHOP_YAML + RehearsalBudgetGateTest.BUDGET), "olivia"));
      WorkflowTestBase.awaitGate(run, "start");
      run.decide(new GateDecision("start", Verdict.APPROVE, "arjun", "override: recorded for replay"));
      WorkflowTestBase.awaitGate(run, "decommission");
      run.decide(new GateDecision("decommission", Verdict.APPROVE, "arjun", "recorded for replay"));
      WorkflowStub.fromTyped(run).getResult(RunStatus.class);
      Files.writeString(MigrationWorkflowReplayTest.HISTORIES.resolve("single-phase-budget-overridden.json"), client.fetchHistory(id).toJson(true));
    }
  }
}

package dev.ferry.workflow;

import dev.ferry.options.ActivityCatalog;
import static dev.ferry.workflow.WorkflowTestBase.APPROVER;
import static dev.ferry.workflow.WorkflowTestBase.approve;
import static dev.ferry.workflow.WorkflowTestBase.reject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunSearchAttributes;
import dev.ferry.model.RunStatus;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeEdge;
import dev.ferry.testing.FakeRehearsals;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.common.converter.GlobalDataConverter;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The search attributes a run publishes as it moves (FerryApp, FerryKind, FerryStrategy,
 * FerryPhase): read live from the server while the run waits or works, and in the order the
 * history recorded them, which is the order of the phases its status query showed.
 */
class RunSearchAttributesTest {
  TestWorkflowEnvironment env;
  WorkflowClient client;
  FakeDatabases databases;
  FakeEdge edge;
  FakeRehearsals rehearsals;

  @BeforeEach
  void startEnvironment() {
    env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance());
    databases = new FakeDatabases();
    edge = new FakeEdge(databases);
    rehearsals = new FakeRehearsals();
    Worker worker = env.newWorker(WorkflowTestBase.QUEUE);
    worker.registerWorkflowImplementationFactory(MigrationWorkflow.class, () -> new MigrationWorkflowImpl(WorkflowTestBase.TUNING));
    worker.registerWorkflowImplementationFactory(RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(WorkflowTestBase.TUNING));
    worker.registerActivitiesImplementations(databases, edge, rehearsals);
    env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
    env.newWorker(ActivityCatalog.loopQueue(WorkflowTestBase.QUEUE)).registerActivitiesImplementations(databases);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  @Test
  void singlePhase_publishesAppKindStrategy_andEachPhase_asTheStatusNamesIt() throws Exception {
    // The dump method, whose restore the fake can hold (the streamed copy's phases: below).
    databases.holdRestore();
    MigrationWorkflow run = start("migration-shop-1", Runbooks.shopWithDump());

    RunStatus atStart = WorkflowTestBase.awaitGate(run, "start");
    assertThat(attributes("migration-shop-1"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("FerryApp", "shop", "FerryKind", "migration", "FerryStrategy", "single-phase", "FerryPhase", "awaiting approval: start"));
    assertThat(atStart.phase()).isEqualTo("awaiting approval: start");

    run.decide(approve("start", APPROVER));
    assertThat(databases.awaitRestoreStarted()).isTrue();
    // While a step runs, the phase is its name, as in the status.
    Eventually.get("the restore phase", () -> attributes("migration-shop-1").get("FerryPhase"), "restore"::equals);
    assertThat(run.status().phase()).isEqualTo("restore");
    databases.releaseRestore();

    WorkflowTestBase.awaitGate(run, "decommission");
    assertThat(attributes("migration-shop-1")).containsEntry("FerryPhase", "awaiting approval: decommission");
    run.decide(approve("decommission", APPROVER));
    RunStatus done = WorkflowStub.fromTyped(run).getResult(RunStatus.class);

    assertThat(done.phase()).isEqualTo("succeeded");
    assertThat(attributes("migration-shop-1")).containsEntry("FerryPhase", "succeeded").containsEntry("FerryApp", "shop");
    // Every phase the run went through, once each, in order; the skipped steps never ran.
    assertThat(publishedPhases("migration-shop-1"))
        .containsExactly(
            "preflight", "awaiting approval: start", "freeze-source", "snapshot", "restore", "verify", "sync-sequences",
            "discard-snapshot", "awaiting approval: decommission", "succeeded");
    // App, kind and strategy go with the first phase, once.
    assertThat(upserts("migration-shop-1").get(0).keySet()).containsExactlyInAnyOrder("FerryApp", "FerryKind", "FerryStrategy", "FerryPhase");
    assertThat(upserts("migration-shop-1").subList(1, 10)).allSatisfy(u -> assertThat(u.keySet()).containsExactly("FerryPhase"));
  }

  @Test
  void multiPhase_waitingAtTheCutoverGate_isFoundAsAwaitingApprovalCutover() {
    MigrationWorkflow run = start("migration-shop-2", Runbooks.shopMultiPhase());
    WorkflowTestBase.awaitGate(run, "start");
    run.decide(approve("start", APPROVER));

    WorkflowTestBase.awaitGateSkippingTime(env, run, "cutover");

    assertThat(attributes("migration-shop-2"))
        .containsEntry("FerryStrategy", "multi-phase")
        .containsEntry("FerryPhase", RunSearchAttributes.awaitingApproval("cutover"));
    run.decide(reject("cutover", APPROVER));
    WorkflowStub.fromTyped(run).getResult(RunStatus.class);
    assertThat(publishedPhases("migration-shop-2"))
        .containsExactly(
            "preflight", "awaiting approval: start", "start-sync", "copy", "catch-up", "pre-verify", "awaiting approval: cutover",
            "compensating: pre-verify", "compensating: start-sync", "rejected");
  }

  @Test
  void aFailedRestore_showsEachCompensation_thenFailed() {
    databases.restoreFailure = ApplicationFailure.newNonRetryableFailure("pg_restore stopped", Errors.RESTORE_FAILED);
    MigrationWorkflow run = start("migration-shop-3", Runbooks.shopWithDump());
    WorkflowTestBase.awaitGate(run, "start");
    run.decide(approve("start", APPROVER));

    assertThatThrownBy(() -> WorkflowStub.fromTyped(run).getResult(RunStatus.class)).isInstanceOf(WorkflowFailedException.class);

    assertThat(publishedPhases("migration-shop-3"))
        .containsExactly(
            "preflight", "awaiting approval: start", "freeze-source", "snapshot", "restore", "compensating: snapshot",
            "compensating: freeze-source", "failed");
    assertThat(attributes("migration-shop-3")).containsEntry("FerryPhase", "failed");
  }

  @Test
  void singlePhase_streamed_publishesTheCopyPhase() {
    MigrationWorkflow run = start("migration-shop-5", Runbooks.shop());
    WorkflowTestBase.awaitGate(run, "start");
    run.decide(approve("start", APPROVER));
    WorkflowTestBase.awaitGate(run, "decommission");
    run.decide(approve("decommission", APPROVER));
    WorkflowStub.fromTyped(run).getResult(RunStatus.class);

    assertThat(publishedPhases("migration-shop-5"))
        .containsExactly(
            "preflight", "awaiting approval: start", "freeze-source", "copy", "verify", "sync-sequences",
            "awaiting approval: decommission", "succeeded");
  }

  @Test
  void aRunCancelledAtItsGate_endsCancelled() {
    MigrationWorkflow run = start("migration-shop-4", Runbooks.shop());
    WorkflowTestBase.awaitGate(run, "start");

    WorkflowStub.fromTyped(run).cancel();

    assertThatThrownBy(() -> WorkflowStub.fromTyped(run).getResult(RunStatus.class)).isInstanceOf(WorkflowFailedException.class);
    assertThat(attributes("migration-shop-4")).containsEntry("FerryPhase", "cancelled");
  }

  @Test
  void aRehearsal_isOfKindRehearsal_andPublishesItsPhases() {
    RehearsalWorkflow rehearsal =
        client.newWorkflowStub(
            RehearsalWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(WorkflowTestBase.QUEUE).setWorkflowId("rehearsal-shop-1a2b3c4d").build());
    WorkflowClient.start(rehearsal::rehearse, new RehearsalRequest(Runbooks.shop(), "olivia", null, true));
    RehearsalReport report = WorkflowStub.fromTyped(rehearsal).getResult(RehearsalReport.class);

    assertThat(report.succeeded()).isTrue();
    assertThat(attributes("rehearsal-shop-1a2b3c4d"))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("FerryApp", "shop", "FerryKind", "rehearsal", "FerryStrategy", "single-phase", "FerryPhase", "succeeded"));
    List<String> phases = new java.util.ArrayList<>(RehearsalWorkflowImpl.PHASES);
    phases.addAll(List.of("recording the report", "succeeded"));
    assertThat(publishedPhases("rehearsal-shop-1a2b3c4d")).containsExactlyElementsOf(phases);
  }

  private MigrationWorkflow start(String id, Runbook runbook) {
    MigrationWorkflow run =
        client.newWorkflowStub(
            MigrationWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(WorkflowTestBase.QUEUE).setWorkflowId(id).build());
    WorkflowClient.start(run::run, new MigrationRequest(runbook, WorkflowTestBase.OPERATOR));
    return run;
  }

  /** The run's search attributes as the server holds them now. */
  private Map<String, String> attributes(String workflowId) {
    SearchAttributes all = client.newUntypedWorkflowStub(workflowId).describe().getTypedSearchAttributes();
    return RunSearchAttributes.ALL.stream()
        .filter(all::containsKey)
        .collect(Collectors.toMap(SearchAttributeKey::getName, all::get));
  }

  /** Each upsert the history recorded, attribute name to value. */
  private List<Map<String, String>> upserts(String workflowId) {
    return client.fetchHistory(workflowId).getEvents().stream()
        .filter(HistoryEvent::hasUpsertWorkflowSearchAttributesEventAttributes)
        .map(e -> e.getUpsertWorkflowSearchAttributesEventAttributes().getSearchAttributes().getIndexedFieldsMap())
        .map(fields -> fields.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, f -> text(f.getValue()))))
        .toList();
  }

  private List<String> publishedPhases(String workflowId) {
    return upserts(workflowId).stream().map(u -> u.get("FerryPhase")).toList();
  }

  private static String text(Payload payload) {
    return GlobalDataConverter.get().fromPayload(payload, String.class, String.class);
  }
}

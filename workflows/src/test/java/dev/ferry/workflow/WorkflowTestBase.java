package dev.ferry.workflow;

import dev.ferry.options.ActivityCatalog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeEdge;
import dev.ferry.testing.FakeRehearsals;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A migration under Temporal's time-skipping test server with fake activities, and the moves
 * every workflow test makes: start a run, wait for a gate, decide it, read the result.
 */
abstract class WorkflowTestBase {
  static final String QUEUE = "ferry";
  static final String OPERATOR = "olivia";
  static final String APPROVER = "arjun";
  /**
   * The test server cannot skip time over an activity nobody picks up, so the wait for a lost
   * host is shortened to real seconds.
   */
  static final Tuning TUNING = new Tuning(Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofSeconds(30));

  TestWorkflowEnvironment env;
  WorkflowClient client;
  FakeDatabases databases;
  FakeEdge edge;
  /** The rehearsal reports the cutover budget reads. */
  FakeRehearsals rehearsals;
  private int runs;

  @BeforeEach
  void startEnvironment() {
    startWith(TUNING, ApprovalKeys.none());
  }

  /** Replaces the environment with one whose workflows use {@code tuning}. */
  void restartWith(Tuning tuning) {
    restartWith(tuning, ApprovalKeys.none());
  }

  /** Replaces the environment with one whose workflows use {@code tuning} and {@code keys}. */
  void restartWith(Tuning tuning, ApprovalKeys keys) {
    env.close();
    startWith(tuning, keys, WorkerOptions.getDefaultInstance());
  }

  /** Replaces the environment with one whose workflows use {@code tuning}, each queue running {@code slots} activities at once. */
  void restartWith(Tuning tuning, int slots) {
    env.close();
    // Heartbeats (and so cancellations) every second at most, as the worker: a cancelled loop
    // frees its slot within a second, not the SDK's default 80 % of the heartbeat timeout.
    startWith(
        tuning,
        ApprovalKeys.none(),
        WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(slots).setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1)).build());
  }

  private void startWith(Tuning tuning, ApprovalKeys keys) {
    startWith(tuning, keys, WorkerOptions.getDefaultInstance());
  }

  private void startWith(Tuning tuning, ApprovalKeys keys, WorkerOptions options) {
    env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance());
    databases = new FakeDatabases();
    edge = new FakeEdge(databases);
    Worker worker = env.newWorker(QUEUE, options);
    worker.registerWorkflowImplementationFactory(MigrationWorkflow.class, () -> new MigrationWorkflowImpl(tuning, keys));
    rehearsals = new FakeRehearsals();
    worker.registerActivitiesImplementations(databases, edge, rehearsals);
    Worker host = env.newWorker(FakeDatabases.HOST_QUEUE, options);
    host.registerActivitiesImplementations(databases);
    env.newWorker(ActivityCatalog.loopQueue(QUEUE), options).registerActivitiesImplementations(databases);
    env.start();
    client = env.getWorkflowClient();
  }

  /** Each activity type the run scheduled, with the task queue it went to. */
  java.util.Map<String, String> scheduledOn(MigrationWorkflow run) {
    java.util.Map<String, String> queues = new java.util.HashMap<>();
    String id = WorkflowStub.fromTyped(run).getExecution().getWorkflowId();
    for (var event : client.fetchHistory(id).getEvents()) {
      if (event.hasActivityTaskScheduledEventAttributes()) {
        var scheduled = event.getActivityTaskScheduledEventAttributes();
        queues.put(scheduled.getActivityType().getName(), scheduled.getTaskQueue().getName());
      }
    }
    return queues;
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  MigrationWorkflow start(Runbook runbook) {
    MigrationWorkflow run =
        client.newWorkflowStub(
            MigrationWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId("migration-shop-" + (++runs)).build());
    WorkflowClient.start(run::run, new MigrationRequest(runbook, OPERATOR));
    return run;
  }

  /** Starts a run and approves its start gate. */
  MigrationWorkflow startApproved(Runbook runbook) {
    MigrationWorkflow run = start(runbook);
    awaitGate(run, "start");
    run.decide(approve("start", APPROVER));
    return run;
  }

  /** Approves the decommission gate once it opens, and returns the run's result. */
  RunStatus decommission(MigrationWorkflow run) {
    awaitGate(run, "decommission");
    run.decide(approve("decommission", APPROVER));
    return resultOf(run);
  }

  static RunStatus awaitGate(MigrationWorkflow run, String gate) {
    return Eventually.get(
        "gate " + gate + " to open", run::status, s -> s.pendingGate() != null && s.pendingGate().gate().equals(gate));
  }

  /** Waits for a gate while letting the workflow's timers fire (lag polls, TTL waits, the fallback window). */
  RunStatus awaitGateSkippingTime(MigrationWorkflow run, String gate) {
    return awaitGateSkippingTime(env, run, gate);
  }

  static RunStatus awaitGateSkippingTime(TestWorkflowEnvironment env, MigrationWorkflow run, String gate) {
    return Eventually.get(
        "gate " + gate + " to open",
        () -> {
          RunStatus s = run.status();
          if (s.pendingGate() == null || !s.pendingGate().gate().equals(gate)) {
            // Big steps through the fallback window; small ones elsewhere, not to pass a reminder.
            env.sleep(s.phase().equals("fallback-window") ? Duration.ofHours(6) : Duration.ofMinutes(10));
          }
          return s;
        },
        s -> s.pendingGate() != null && s.pendingGate().gate().equals(gate));
  }

  static RunStatus resultOf(MigrationWorkflow run) {
    return WorkflowStub.fromTyped(run).getResult(RunStatus.class);
  }

  static GateDecision approve(String gate, String approver) {
    return new GateDecision(gate, Verdict.APPROVE, approver, "looks good");
  }

  static GateDecision reject(String gate, String approver) {
    return new GateDecision(gate, Verdict.REJECT, approver, "not now");
  }

  static StepStatus step(RunStatus status, String name) {
    return status.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  static void assertRefused(Runnable decide, GateDecisionRefused.Reason reason) {
    assertThatThrownBy(decide::run)
        .isInstanceOf(WorkflowUpdateException.class)
        .satisfies(e -> assertThat(GateDecisionRefused.from(e)).hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo(reason)));
  }
}

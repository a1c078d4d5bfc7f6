package dev.ferry.testing.temporal;

import dev.ferry.activities.copy.CopyActivitiesImpl;
import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.ledger.LedgerVerificationDetails;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreflightActivitiesImpl;
import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import dev.ferry.activities.postgres.RestoreActivitiesImpl;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.activities.sync.SyncChangeFeeds;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.options.ActivityCatalog;
import dev.ferry.workflow.MigrationWorkflow;
import dev.ferry.workflow.MigrationWorkflowImpl;
import dev.ferry.workflow.Tuning;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * One migration through the real workflow ({@link MigrationWorkflowImpl}) with the real activities,
 * wired as the worker wires those a runbook without DNS, Heroku, config vars, RDS, notifications
 * or rehearsals needs, against real databases, on a real Temporal server ({@code temporal server
 * start-dev}: it enforces Temporal's payload limits and counts the history as a deployment's
 * would). Every gate is approved as it opens. What the run took of Temporal is measured on the
 * way ({@link RunFootprint}): the largest payload of its history, its heartbeats and its status
 * queries, and its history's length and size as the server counts them.
 *
 * <p>One run per instance (its worker's interceptor measures that run's heartbeats). Used by
 * {@code ManyTablesMigrationTest} and {@code dev.ferry.bench.ManyTablesBench}.
 */
public final class RealMigration implements AutoCloseable {
  /** The operator who starts the run; the runbooks' gates list {@link #APPROVER}. */
  public static final String OPERATOR = "olivia";
  public static final String APPROVER = "arjun";
  /** Lag polls every second: runs here are short, and the default 30 s would be most of one. */
  public static final Tuning TUNING = new Tuning(Duration.ofMinutes(30), Duration.ofMinutes(1), Duration.ofSeconds(1));
  /** The pre-verification at full pace: nothing else loads these databases. */
  public static final PreverifyActivitiesImpl.Settings FULL_PACE_PREVERIFY =
      new PreverifyActivitiesImpl.Settings(1.0, Duration.ofSeconds(20), Duration.ofMillis(50), 5_000, 4, 3, 2, dev.ferry.activities.Pause.SLEEP);

  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;
  private final WorkerFactory factory;
  private final String queue;
  private final RunFootprint footprint = new RunFootprint(DefaultDataConverter.newDefaultInstance());

  /**
   * @param ledger the run ledger (run events, every comparison of the verify), or {@code null}
   *     for none (the worker's log names what differs)
   * @param workDir where dumps and the sync's copy go
   */
  public RealMigration(TemporalDevServer server, Databases databases, LedgerDatabase ledger, Path workDir) {
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(server.address()).build());
    client = WorkflowClient.newInstance(stubs);
    factory =
        WorkerFactory.newInstance(client, WorkerFactoryOptions.newBuilder().setWorkerInterceptors(footprint.heartbeatMeter()).build());
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    queue = "ferry-many-" + suffix;
    String hostQueue = "ferry-host-many-" + suffix;
    PgTools tools = PgTools.locate(System.getenv());
    SnapshotStore store = new SnapshotStore(workDir.resolve("snapshots"));
    SnapshotActivitiesImpl snapshots = new SnapshotActivitiesImpl(databases, tools, store, hostQueue);
    VerificationDetails details = ledger == null ? VerificationDetails.log() : new LedgerVerificationDetails(ledger);
    LedgerActivities events = ledger == null ? event -> {} : new LedgerActivitiesImpl(ledger);
    // As the worker: heartbeats reach the server at least every second.
    WorkerOptions options = WorkerOptions.newBuilder().setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1)).build();
    Worker shared = factory.newWorker(queue, options);
    shared.registerWorkflowImplementationFactory(MigrationWorkflow.class, () -> new MigrationWorkflowImpl(TUNING, ApprovalKeys.none()));
    SyncActivitiesImpl sync = new SyncActivitiesImpl(databases, new InitialCopy(databases, tools, workDir.resolve("sync")));
    PreverifyActivitiesImpl preverify = new PreverifyActivitiesImpl(databases, new SyncChangeFeeds(), FULL_PACE_PREVERIFY);
    shared.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        snapshots,
        new VerifyActivitiesImpl(databases, details),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        sync,
        preverify,
        events);
    // The streaming copy as the worker: the copiers here, the snapshot's holder on the loop queue.
    CopyActivitiesImpl copy = new CopyActivitiesImpl(databases, tools, workDir.resolve("copy"), details);
    shared.registerActivitiesImplementations(copy);
    // The loops that last until the cutover (apply, pre-verification) on their own queue, as the worker.
    factory.newWorker(ActivityCatalog.loopQueue(queue), options).registerActivitiesImplementations(sync, preverify, copy);
    Worker host = factory.newWorker(hostQueue, options);
    host.registerActivitiesImplementations(new RestoreActivitiesImpl(databases, tools, store), snapshots);
    factory.start();
  }

  /**
   * What a run took.
   *
   * @param largest the largest payload of the run's history, heartbeats and queries, and where
   * @param historyEvents events in the run's history, as the server counts them
   * @param historyBytes the history's size, as the server counts it
   * @param activities activities the run scheduled, by type
   */
  public record Outcome(
      String runId,
      RunStatus status,
      Duration took,
      RunFootprint.Largest largest,
      int largestHeartbeat,
      long heartbeats,
      int largestQuery,
      long historyEvents,
      long historyBytes,
      java.util.SortedMap<String, Long> activities) {

    /** {@code name value} lines, for the bench. */
    public String lines(String prefix) {
      return prefix + ".seconds " + String.format(java.util.Locale.ROOT, "%.1f", took.toMillis() / 1000.0) + "\n"
          + prefix + ".largest_payload_bytes " + largest.bytes() + "\n"
          + prefix + ".largest_heartbeat_bytes " + largestHeartbeat + "\n"
          + prefix + ".largest_query_bytes " + largestQuery + "\n"
          + prefix + ".heartbeats " + heartbeats + "\n"
          + prefix + ".history_events " + historyEvents + "\n"
          + prefix + ".history_bytes " + historyBytes + "\n"
          + prefix + ".activities " + activities.values().stream().mapToLong(Long::longValue).sum() + "\n";
    }
  }

  /**
   * Starts the runbook's migration, approves each gate as it opens and returns once the run has
   * ended (whatever its end) or fails after {@code bound}.
   */
  public Outcome run(String runbookYaml, Duration bound) {
    Runbook runbook = RunbookParser.parse(runbookYaml);
    String runId = "migration-" + runbook.app() + "-" + UUID.randomUUID().toString().substring(0, 8);
    MigrationWorkflow run =
        client.newWorkflowStub(MigrationWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(runId).build());
    long started = System.nanoTime();
    long deadline = started + bound.toNanos();
    WorkflowClient.start(run::run, new MigrationRequest(runbook, OPERATOR));
    Set<String> approved = new HashSet<>();
    RunStatus status;
    while (true) {
      status = footprint.query(MigrationWorkflow.STATUS_QUERY, run.status());
      if (status.state().finished()) {
        break;
      }
      if (status.pendingGate() != null && approved.add(status.pendingGate().gate())) {
        footprint.query(MigrationWorkflow.DECIDE_UPDATE,
            run.decide(new GateDecision(status.pendingGate().gate(), Verdict.APPROVE, APPROVER, "approved by the test")));
        continue;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the run " + runId + " did not end within " + bound + "; last seen: " + status);
      }
      pause();
    }
    try {
      // Its result, as the API reads it (failed runs throw here; their status says why).
      status = WorkflowStub.fromTyped(run).getResult(RunStatus.class);
    } catch (io.temporal.client.WorkflowFailedException e) {
      // The status query above already holds the failure.
    }
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    io.temporal.common.WorkflowExecutionHistory history = client.fetchHistory(runId);
    footprint.history(history);
    java.util.SortedMap<String, Long> activities =
        history.getEvents().stream()
            .filter(io.temporal.api.history.v1.HistoryEvent::hasActivityTaskScheduledEventAttributes)
            .collect(java.util.stream.Collectors.groupingBy(
                e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName(),
                java.util.TreeMap::new,
                java.util.stream.Collectors.counting()));
    WorkflowExecutionInfo info =
        stubs.blockingStub()
            .describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder()
                    .setNamespace(client.getOptions().getNamespace())
                    .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId))
                    .build())
            .getWorkflowExecutionInfo();
    return new Outcome(
        runId,
        status,
        took,
        footprint.largest(),
        footprint.largestHeartbeat(),
        footprint.heartbeats(),
        footprint.largestQuery(),
        info.getHistoryLength(),
        info.getHistorySizeBytes(),
        activities);
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the run", e);
    }
  }

  /** A runbook of {@code strategy} between the two references, every gate approved by {@link #APPROVER}. */
  public static String runbook(String app, String strategy, String sourceRef, String targetRef, int jobs) {
    String yaml =
        "app: " + app + "\n"
            + "strategy: " + strategy + "\n"
            + "source:\n  databaseUrl: " + sourceRef + "\n"
            + "target:\n  databaseUrl: " + targetRef + "\n"
            + "snapshot:\n  jobs: " + jobs + "\n";
    if (strategy.equals("multi-phase")) {
      yaml += "sync:\n  method: trigger\n  maxLag: 30s\nfallbackWindow: 1s\n";
    }
    yaml += "gates:\n  start: {approvers: [" + APPROVER + "]}\n  decommission: {approvers: [" + APPROVER + "]}\n";
    if (strategy.equals("multi-phase")) {
      yaml += "  cutover: {approvers: [" + APPROVER + "]}\n";
    }
    return yaml;
  }

  @Override
  public void close() {
    factory.shutdown();
    factory.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    stubs.shutdown();
  }
}

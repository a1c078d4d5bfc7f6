package dev.ferry.api.temporal;

import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.Progress;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunSearchAttributes;
import dev.ferry.model.RunStatus;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.workflow.MigrationWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowExecutionMetadata;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DataConverterException;
import io.temporal.failure.TemporalFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * What the API asks of Temporal about runs: start one, read its status (the workflow's own
 * status query plus what the server knows of the activity running now), decide a gate.
 */
public class RunGateway {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** How long a query or a decision may wait for a worker before the API answers 503. */
  public static final Duration WORKER_WAIT = Duration.ofSeconds(15);

  private final WorkflowClient client;
  private final String namespace;
  private final String taskQueue;
  private final Duration workerWait;
  private final ExecutorService waiting =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "ferry-api-temporal-call");
            t.setDaemon(true);
            return t;
          });

  public RunGateway(WorkflowClient client, String taskQueue) {
    this(client, taskQueue, WORKER_WAIT);
  }

  /**
   * @param workerWait how long a query or a decision waits for a worker to answer: both need
   *     one, and without one Temporal would keep the caller waiting
   */
  public RunGateway(WorkflowClient client, String taskQueue, Duration workerWait) {
    this.client = client;
    this.namespace = client.getOptions().getNamespace();
    this.taskQueue = taskQueue;
    this.workerWait = workerWait;
  }

  /** A new run id: {@code migration-<app>-<8 random hex>}. */
  public static String newRunId(RunKind kind, String app) {
    byte[] suffix = new byte[4];
    RANDOM.nextBytes(suffix);
    return kind.label() + "-" + app + "-" + HexFormat.of().formatHex(suffix);
  }

  /**
   * Starts a migration under the given id. Idempotent: when a workflow with this id was already
   * started (a retried request), nothing happens.
   */
  public void start(String runId, Runbook runbook, String startedBy) {
    MigrationWorkflow workflow =
        client.newWorkflowStub(
            MigrationWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(taskQueue).setWorkflowId(runId).build());
    try {
      WorkflowClient.start(workflow::run, new MigrationRequest(runbook, startedBy));
    } catch (WorkflowExecutionAlreadyStarted e) {
      // The same request again: the run it started is the answer.
    }
  }

  /** The most run ids a phase filter takes from visibility: more than a page of the list holds. */
  public static final int MAX_IN_PHASE = 1000;

  /**
   * The runs Temporal's visibility shows in {@code phase} now (search attribute {@code
   * FerryPhase}, the status query's words), of one app and kind when given. Only runs begun since
   * runs publish their phase, and only while the namespace's retention keeps them.
   *
   * @throws StatusRuntimeException when Temporal cannot be reached
   */
  public Set<String> runIdsInPhase(String phase, String app, String kind) {
    StringBuilder query = new StringBuilder(RunSearchAttributes.equalsTerm(RunSearchAttributes.PHASE, phase));
    if (app != null) {
      query.append(" AND ").append(RunSearchAttributes.equalsTerm(RunSearchAttributes.APP, app));
    }
    if (kind != null) {
      query.append(" AND ").append(RunSearchAttributes.equalsTerm(RunSearchAttributes.KIND, kind));
    }
    try (Stream<WorkflowExecutionMetadata> runs = client.listExecutions(query.toString())) {
      return runs.limit(MAX_IN_PHASE)
          .map(r -> r.getExecution().getWorkflowId())
          .collect(Collectors.toCollection(LinkedHashSet::new));
    }
  }

  /** Asks the run to cancel; the workflow rolls back what it did and ends CANCELLED. */
  public void cancel(String runId) {
    client.newUntypedWorkflowStub(runId).cancel();
  }

  /**
   * What the server knows of a run, or empty when there is no such run.
   *
   * @throws StatusRuntimeException when Temporal cannot be reached
   */
  public Optional<Execution> describe(String runId) {
    try {
      DescribeWorkflowExecutionResponse d =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(namespace)
                      .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId))
                      .build());
      return Optional.of(new Execution(d.getWorkflowExecutionInfo().getStatus(), liveProgress(d)));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * The workflow's own view of the run: its {@code status} query.
   *
   * @throws NoWorkerException when no worker answers in time
   */
  public RunStatus status(String runId) {
    return withinWorkerWait(() -> client.newWorkflowStub(MigrationWorkflow.class, runId).status());
  }

  /**
   * Sends a decision through the {@code decide} update; the gate's validator may refuse it.
   *
   * @throws NoWorkerException when no worker takes it in time (it may still take effect when
   *     one comes back)
   */
  public Decision decide(String runId, GateDecision decision) {
    return withinWorkerWait(() -> client.newWorkflowStub(MigrationWorkflow.class, runId).decide(decision));
  }

  /** No worker answered within the wait. */
  public static class NoWorkerException extends RuntimeException {
    NoWorkerException(Duration waited) {
      super("no Ferry worker answered within " + waited.toSeconds() + "s");
    }
  }

  private <T> T withinWorkerWait(Supplier<T> call) {
    Future<T> future = waiting.submit(call::get);
    try {
      return future.get(workerWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new NoWorkerException(workerWait);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new NoWorkerException(workerWait);
    }
  }

  /** A run as the server sees it: closed or not, and the progress of its running activity. */
  public record Execution(WorkflowExecutionStatus status, LiveProgress progress) {
    public boolean open() {
      return status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    }
  }

  /**
   * The activity running now, from the server: its last heartbeat and, when it is being
   * retried, why the last attempt failed.
   */
  public record LiveProgress(
      String activity, int attempt, Progress heartbeat, Instant lastHeartbeatAt, String lastFailure) {}

  private LiveProgress liveProgress(DescribeWorkflowExecutionResponse d) {
    if (d.getPendingActivitiesCount() == 0) {
      return null;
    }
    PendingActivityInfo pending = d.getPendingActivities(0);
    Progress heartbeat = null;
    if (pending.hasHeartbeatDetails()) {
      DataConverter converter = client.getOptions().getDataConverter();
      try {
        heartbeat =
            converter.fromPayloads(
                0, Optional.of(pending.getHeartbeatDetails()), Progress.class, Progress.class);
      } catch (DataConverterException e) {
        heartbeat = null; // an activity that heartbeats something else
      }
    }
    Instant lastBeat =
        pending.hasLastHeartbeatTime()
            ? Instant.ofEpochSecond(
                pending.getLastHeartbeatTime().getSeconds(), pending.getLastHeartbeatTime().getNanos())
            : null;
    String lastFailure = null;
    if (pending.hasLastFailure()) {
      // With payload encryption the message is inside the encoded attributes: decode it.
      try {
        RuntimeException decoded = client.getOptions().getDataConverter().failureToException(pending.getLastFailure());
        lastFailure = decoded instanceof TemporalFailure t ? t.getOriginalMessage() : decoded.getMessage();
      } catch (RuntimeException e) {
        lastFailure = pending.getLastFailure().getMessage();
      }
    }
    return new LiveProgress(
        pending.getActivityType().getName(), pending.getAttempt(), heartbeat, lastBeat, lastFailure);
  }
}

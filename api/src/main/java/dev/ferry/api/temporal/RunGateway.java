package dev.ferry.api.temporal;

import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.Progress;
import dev.ferry.model.RunStatus;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.workflow.MigrationWorkflow;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DataConverterException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What the API asks of Temporal about runs: start one, read its status (the workflow's own
 * status query plus what the server knows of the activity running now), decide a gate.
 */
public class RunGateway {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final WorkflowClient client;
  private final String namespace;
  private final String taskQueue;

  public RunGateway(WorkflowClient client, String taskQueue) {
    this.client = client;
    this.namespace = client.getOptions().getNamespace();
    this.taskQueue = taskQueue;
  }

  /** Starts a migration; returns its run id ({@code migration-<app>-<8 hex>}). */
  public String start(Runbook runbook, String startedBy) {
    byte[] suffix = new byte[4];
    RANDOM.nextBytes(suffix);
    String runId = "migration-" + runbook.app() + "-" + HexFormat.of().formatHex(suffix);
    MigrationWorkflow workflow =
        client.newWorkflowStub(
            MigrationWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(taskQueue).setWorkflowId(runId).build());
    WorkflowClient.start(workflow::run, new MigrationRequest(runbook, startedBy));
    return runId;
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

  /** The workflow's own view of the run: its {@code status} query. */
  public RunStatus status(String runId) {
    return client.newWorkflowStub(MigrationWorkflow.class, runId).status();
  }

  /** Sends a decision through the {@code decide} update; the gate's validator may refuse it. */
  public Decision decide(String runId, GateDecision decision) {
    return client.newWorkflowStub(MigrationWorkflow.class, runId).decide(decision);
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
    String lastFailure = pending.hasLastFailure() ? pending.getLastFailure().getMessage() : null;
    return new LiveProgress(
        pending.getActivityType().getName(), pending.getAttempt(), heartbeat, lastBeat, lastFailure);
  }
}

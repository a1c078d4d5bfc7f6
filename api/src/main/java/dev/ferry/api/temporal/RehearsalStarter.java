package dev.ferry.api.temporal;

import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.workflow.RehearsalWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;

/** Starts {@code RehearsalWorkflow} runs; their status, cancel and events go through {@link RunGateway}. */
public class RehearsalStarter {
  private final WorkflowClient client;
  private final String taskQueue;

  public RehearsalStarter(WorkflowClient client, String taskQueue) {
    this.client = client;
    this.taskQueue = taskQueue;
  }

  /** Starts a rehearsal under the given id. Idempotent: a second start of the same id does nothing. */
  public void start(String runId, Runbook runbook, String startedBy, boolean freshSnapshot) {
    RehearsalWorkflow workflow =
        client.newWorkflowStub(
            RehearsalWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue(taskQueue).setWorkflowId(runId).build());
    try {
      WorkflowClient.start(workflow::rehearse, new RehearsalRequest(runbook, startedBy, null, freshSnapshot));
    } catch (WorkflowExecutionAlreadyStarted e) {
      // The same request again: the rehearsal it started is the answer.
    }
  }
}

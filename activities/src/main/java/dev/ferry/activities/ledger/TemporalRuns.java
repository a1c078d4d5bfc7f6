package dev.ferry.activities.ledger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.activity.Activity;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;

/**
 * Whether a run the ledger still shows open is running in Temporal: a run whose workflow ended
 * without the ledger hearing of it (terminated from the Temporal UI, say) must not block the
 * app's rehearsals forever.
 */
public final class TemporalRuns {
  private TemporalRuns() {}

  /** Whether a workflow with this id is running now. */
  @FunctionalInterface
  public interface RunningCheck {
    boolean isRunning(String workflowId);
  }

  /** Asked through the client of the worker running the current activity. */
  public static boolean isRunningForActivity(String workflowId) {
    return isRunning(Activity.getExecutionContext().getWorkflowClient(), workflowId);
  }

  /** Running per Temporal; a run it does not know (any more) is not. */
  public static boolean isRunning(WorkflowClient client, String workflowId) {
    try {
      return client
              .getWorkflowServiceStubs()
              .blockingStub()
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(client.getOptions().getNamespace())
                      .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                      .build())
              .getWorkflowExecutionInfo()
              .getStatus()
          == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }
}

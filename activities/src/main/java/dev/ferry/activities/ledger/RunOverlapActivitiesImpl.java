package dev.ferry.activities.ledger;

import dev.ferry.activity.RunOverlapActivities;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.activity.Activity;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers a rehearsal schedule's "is anything of this app running?" from the ledger's runs that
 * have not ended, each confirmed with Temporal: the embedded server forgets its runs when it
 * stops, and their rows would otherwise block the app's rehearsals forever.
 */
public class RunOverlapActivitiesImpl implements RunOverlapActivities {
  /** At most this many open runs of one app are confirmed; more would be a ledger gone wrong. */
  static final int MAX_CANDIDATES = 20;

  /** Whether a workflow with this id is running now. */
  @FunctionalInterface
  public interface RunningCheck {
    boolean isRunning(String workflowId);
  }

  private final LedgerDatabase ledger;
  private final RunningCheck running;

  /** Confirms with the Temporal client of the worker running the activity. */
  public RunOverlapActivitiesImpl(LedgerDatabase ledger) {
    this(ledger, RunOverlapActivitiesImpl::isRunning);
  }

  public RunOverlapActivitiesImpl(LedgerDatabase ledger, RunningCheck running) {
    this.ledger = ledger;
    this.running = running;
  }

  @Override
  public List<String> runningRunsOf(String app) {
    List<String> candidates = new ArrayList<>();
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement(
                """
                SELECT run_id FROM runs
                 WHERE app = ? AND state NOT IN ('SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED')
                 ORDER BY created_at, run_id LIMIT ?
                """)) {
      s.setString(1, app);
      s.setInt(2, MAX_CANDIDATES);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          candidates.add(rs.getString(1));
        }
      }
    } catch (SQLException e) {
      throw ApplicationFailure.newFailureWithCause(
          "the ledger at " + ledger + " did not say which runs of " + app + " are open: " + e.getMessage(),
          LedgerActivitiesImpl.LEDGER_UNAVAILABLE,
          null);
    }
    return candidates.stream().filter(running::isRunning).toList();
  }

  /**
   * Running per Temporal; a run it does not know (any more) is not. Asked through the client of
   * the worker running the current activity.
   */
  public static boolean isRunning(String workflowId) {
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

package dev.ferry.api.schedules;

import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.workflow.RehearsalScheduleWorkflow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowUpdateException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Schedules kept by {@code RehearsalScheduleWorkflow}s, one per schedule, its workflow id the
 * schedule's id: works on any Temporal server, the embedded Java test server included. Queries
 * and updates need a worker; without one they give up after the worker wait.
 */
public class WorkflowSchedules implements RehearsalSchedules {
  private final WorkflowClient client;
  private final String namespace;
  private final String taskQueue;
  private final Duration workerWait;
  private final ExecutorService waiting =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "ferry-api-schedule-call");
            t.setDaemon(true);
            return t;
          });

  public WorkflowSchedules(WorkflowClient client, String taskQueue, Duration workerWait) {
    this.client = client;
    this.namespace = client.getOptions().getNamespace();
    this.taskQueue = taskQueue;
    this.workerWait = workerWait;
  }

  @Override
  public String backend() {
    return WORKFLOW;
  }

  @Override
  public void create(ScheduleDefinition definition) {
    RehearsalScheduleWorkflow schedule =
        client.newWorkflowStub(
            RehearsalScheduleWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(taskQueue)
                .setWorkflowId(definition.scheduleId())
                .setMemo(Map.of("app", definition.app(), "timing", definition.timing().describe()))
                .build());
    try {
      WorkflowClient.start(schedule::keep, definition, null);
    } catch (WorkflowExecutionAlreadyStarted e) {
      // A retried request: the schedule it created is the answer.
    }
  }

  /**
   * Whether Temporal has no record of this schedule's workflow at all (an embedded server that
   * restarted), as opposed to one that ended (deleted, or terminated from the Temporal UI).
   */
  public boolean unknownToTemporal(String scheduleId) {
    try {
      client
          .getWorkflowServiceStubs()
          .blockingStub()
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(namespace)
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(scheduleId))
                  .build());
      return false;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return true;
      }
      throw e;
    }
  }

  @Override
  public Optional<ScheduleStatus> describe(String scheduleId) {
    WorkflowExecutionStatus status;
    try {
      status =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(namespace)
                      .setExecution(WorkflowExecution.newBuilder().setWorkflowId(scheduleId))
                      .build())
              .getWorkflowExecutionInfo()
              .getStatus();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
    if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        && status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      // Failed (a timing it cannot fire), terminated or timed out: it fires no more.
      return Optional.empty();
    }
    return Optional.ofNullable(withinWorkerWait(() -> stub(scheduleId).describe()));
  }

  @Override
  public ScheduleStatus pause(String scheduleId, ScheduleCommand command) {
    return update(scheduleId, () -> stub(scheduleId).pause(command));
  }

  @Override
  public ScheduleStatus resume(String scheduleId, ScheduleCommand command) {
    return update(scheduleId, () -> stub(scheduleId).resume(command));
  }

  @Override
  public FireRecord trigger(String scheduleId, ScheduleCommand command) {
    return update(scheduleId, () -> stub(scheduleId).trigger(command));
  }

  @Override
  public void delete(String scheduleId, ScheduleCommand command) {
    update(scheduleId, () -> stub(scheduleId).delete(command));
  }

  private RehearsalScheduleWorkflow stub(String scheduleId) {
    return client.newWorkflowStub(RehearsalScheduleWorkflow.class, scheduleId);
  }

  private <T> T update(String scheduleId, Supplier<T> call) {
    try {
      return withinWorkerWait(call);
    } catch (WorkflowNotFoundException e) {
      throw new ScheduleGoneException("schedule " + scheduleId + " is deleted or gone from Temporal");
    } catch (WorkflowUpdateException e) {
      // The validator refused it: the schedule is being deleted.
      throw new ScheduleGoneException("schedule " + scheduleId + " is deleted");
    }
  }

  private <T> T withinWorkerWait(Supplier<T> call) {
    Future<T> future = waiting.submit(call::get);
    try {
      return future.get(workerWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new ScheduleUnavailableException("no Ferry worker answered within " + workerWait.toSeconds() + "s; is a worker running?");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new ScheduleUnavailableException("interrupted while waiting for a worker");
    }
  }
}

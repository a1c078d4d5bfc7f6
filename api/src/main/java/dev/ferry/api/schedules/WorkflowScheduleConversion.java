package dev.ferry.api.schedules;

import dev.ferry.api.db.ScheduleRegistry;
import io.dropwizard.lifecycle.Managed;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.TerminateWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes each schedule the ledger still lists as kept by a {@code RehearsalScheduleWorkflow} (the
 * backend Ferry had for Temporal's Java test server, and which {@code schedules.backend:
 * workflow} could force on any server) a Temporal schedule, once, when the API starts.
 *
 * <p>Why: workers no longer register that workflow type, so such a workflow on a persistent
 * server would stay RUNNING and fail a workflow task at each of its timers (unknown workflow
 * type), never firing again; the app's rehearsals would silently stop, and the cutover budget
 * would then refuse the cutover for want of a recent rehearsal. Converted, the schedule keeps
 * its id, runbook, timing and (as far as Ferry paused it) its pause; the old workflow is
 * terminated so that it cannot fire beside it on a worker of the old version. Its earlier fires
 * are not carried over. A schedule whose workflow an in-memory server forgot is created again
 * the same way.
 */
public class WorkflowScheduleConversion implements Managed {
  private static final Logger log = LoggerFactory.getLogger(WorkflowScheduleConversion.class);
  static final String WORKFLOW_TYPE = "RehearsalScheduleWorkflow";
  static final String ACTOR = "ferry";

  private final TemporalSchedules temporal;
  private final ScheduleRegistry registry;
  private final WorkflowClient client;
  private final Clock clock;

  public WorkflowScheduleConversion(TemporalSchedules temporal, ScheduleRegistry registry, WorkflowClient client, Clock clock) {
    this.temporal = temporal;
    this.registry = registry;
    this.client = client;
    this.clock = clock;
  }

  @Override
  public void start() {
    try {
      int converted = convert();
      if (converted > 0) {
        log.info("{} rehearsal schedule(s) kept by workflows are Temporal schedules now", converted);
      }
    } catch (Exception e) {
      // The API starts anyway: such schedules show as MISSING, saying so; the next start tries again.
      log.warn("could not make the workflow-kept rehearsal schedules Temporal schedules: {}", e.getMessage());
    }
  }

  /** @return how many schedules were converted */
  public int convert() throws Exception {
    int converted = 0;
    for (ScheduleRegistry.Entry e : registry.keptByWorkflows()) {
      Optional<ScheduleDefinition> definition = registry.definition(e.scheduleId());
      if (definition.isEmpty()) {
        continue;
      }
      String note =
          e.paused()
              ? "paused by " + ACTOR + ": it was paused when Ferry made it a Temporal schedule"
              : "created by " + e.createdBy() + "; a Temporal schedule since Ferry stopped keeping schedules as workflows";
      temporal.create(definition.get(), e.paused(), note);
      registry.keptByTemporal(e.scheduleId());
      String ended = endOldWorkflow(e.scheduleId());
      registry.record(
          e.scheduleId(),
          ScheduleRegistry.Event.of(clock.instant(), "CONVERTED", ACTOR, "kept by a RehearsalScheduleWorkflow until now; " + ended));
      log.info("rehearsal schedule {} ({}) is a Temporal schedule now; {}", e.scheduleId(), e.app(), ended);
      converted++;
    }
    return converted;
  }

  /** Terminates the schedule's old workflow if it still runs; says what it found. */
  private String endOldWorkflow(String scheduleId) {
    String namespace = client.getOptions().getNamespace();
    WorkflowExecutionInfo info;
    try {
      info =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(namespace)
                      .setExecution(WorkflowExecution.newBuilder().setWorkflowId(scheduleId))
                      .build())
              .getWorkflowExecutionInfo();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return "Temporal had no workflow of it (an in-memory server that restarted)";
      }
      throw e;
    }
    if (info.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        || !WORKFLOW_TYPE.equals(info.getType().getName())) {
      return "its workflow had ended";
    }
    client
        .getWorkflowServiceStubs()
        .blockingStub()
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .terminateWorkflowExecution(
            TerminateWorkflowExecutionRequest.newBuilder()
                .setNamespace(namespace)
                .setWorkflowExecution(WorkflowExecution.newBuilder().setWorkflowId(scheduleId).setRunId(info.getExecution().getRunId()))
                .setReason("replaced by the Temporal schedule " + scheduleId)
                .setIdentity("ferry-api")
                .build());
    return "its workflow was terminated";
  }
}

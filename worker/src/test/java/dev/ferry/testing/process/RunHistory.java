package dev.ferry.testing.process;

import dev.ferry.temporal.PayloadEncryption;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.converter.DataConverter;
import io.temporal.failure.TemporalFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What Temporal recorded of a run, read with the stack's payload key: each activity's attempts
 * (which attempt ended it, on which worker, after what failure of the one before) and the
 * activities pending now. This is how a kill test proves its kill landed mid-step: the step's
 * activity ran a second attempt on the new worker after the first one timed out.
 */
public final class RunHistory implements AutoCloseable {
  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;
  private final DataConverter converter;

  public RunHistory(String temporalAddress, String payloadKey) {
    stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(temporalAddress).build());
    converter = PayloadEncryption.dataConverter(PayloadEncryption.of(payloadKey, ""));
    client = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setDataConverter(converter).build());
  }

  public WorkflowClient client() {
    return client;
  }

  /**
   * An activity that ended, as history tells it.
   *
   * @param attempt the attempt that ended it (1 when it never had to be retried)
   * @param identity the worker that ran that attempt ({@code <pid>@<host>})
   * @param previousFailure why the attempt before it failed ({@code "timeout: HEARTBEAT"} after a
   *     dead worker), or null on a first attempt
   * @param outcome completed, failed, timed-out or canceled
   */
  public record Attempt(String activityType, int attempt, String identity, String previousFailure, String outcome) {
    public boolean retriedAfterHeartbeatTimeout() {
      return attempt >= 2 && "timeout: HEARTBEAT".equals(previousFailure);
    }
  }

  /** Every scheduled activity of {@code activityType} that has ended, in the order scheduled. */
  public List<Attempt> ended(String runId, String activityType) {
    List<HistoryEvent> events = client.fetchHistory(runId).getEvents();
    Map<Long, String> types = new HashMap<>();
    Map<Long, HistoryEvent> started = new HashMap<>();
    List<Attempt> attempts = new ArrayList<>();
    for (HistoryEvent e : events) {
      if (e.hasActivityTaskScheduledEventAttributes()) {
        types.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
      } else if (e.hasActivityTaskStartedEventAttributes()) {
        started.put(e.getActivityTaskStartedEventAttributes().getScheduledEventId(), e);
      } else {
        long scheduled;
        String outcome;
        if (e.hasActivityTaskCompletedEventAttributes()) {
          scheduled = e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
          outcome = "completed";
        } else if (e.hasActivityTaskFailedEventAttributes()) {
          scheduled = e.getActivityTaskFailedEventAttributes().getScheduledEventId();
          outcome = "failed";
        } else if (e.hasActivityTaskTimedOutEventAttributes()) {
          scheduled = e.getActivityTaskTimedOutEventAttributes().getScheduledEventId();
          outcome = "timed-out";
        } else if (e.hasActivityTaskCanceledEventAttributes()) {
          scheduled = e.getActivityTaskCanceledEventAttributes().getScheduledEventId();
          outcome = "canceled";
        } else {
          continue;
        }
        if (!activityType.equals(types.get(scheduled))) {
          continue;
        }
        HistoryEvent s = started.get(scheduled);
        if (s == null) {
          attempts.add(new Attempt(activityType, 0, null, null, outcome)); // ended before any worker took it
          continue;
        }
        var a = s.getActivityTaskStartedEventAttributes();
        attempts.add(
            new Attempt(activityType, a.getAttempt(), a.getIdentity(), a.hasLastFailure() ? describe(a.getLastFailure()) : null, outcome));
      }
    }
    return attempts;
  }

  /**
   * How many activities of this type the run scheduled (each once, whatever its attempts). An
   * activity the workflow cancelled without waiting may have no end in a history that closed
   * before its worker answered; it was still scheduled.
   */
  public long scheduled(String runId, String activityType) {
    return client.fetchHistory(runId).getEvents().stream()
        .filter(HistoryEvent::hasActivityTaskScheduledEventAttributes)
        .filter(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName().equals(activityType))
        .count();
  }

  /** The one ended activity of this type; fails the test when there is none or more than one. */
  public Attempt endedOnce(String runId, String activityType) {
    List<Attempt> all = ended(runId, activityType);
    if (all.size() != 1) {
      throw new AssertionError("expected one " + activityType + " in the history of " + runId + ", found " + all);
    }
    return all.get(0);
  }

  /**
   * An activity pending now, as the server describes it.
   *
   * @param state SCHEDULED (waiting for a worker or for its retry), STARTED, CANCEL_REQUESTED
   * @param lastWorkerIdentity the worker that took its latest attempt
   * @param activityId the same for every attempt ({@link #input} finds its argument by it)
   */
  public record Pending(
      String activityType,
      int attempt,
      String state,
      String lastWorkerIdentity,
      Instant lastStartedAt,
      Instant lastHeartbeatAt,
      Payloads heartbeat,
      String lastFailure,
      String activityId) {

    /** Started by {@code worker} and heartbeating there, after {@code since}. */
    public boolean runningOn(FerryProcess worker, Instant since) {
      return "STARTED".equals(state)
          && worker.isIdentity(lastWorkerIdentity)
          && lastStartedAt != null
          && !lastStartedAt.isBefore(since);
    }
  }

  public List<Pending> pending(String runId) {
    var described =
        stubs
            .blockingStub()
            .describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder()
                    .setNamespace(client.getOptions().getNamespace())
                    .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId))
                    .build());
    List<Pending> all = new ArrayList<>();
    for (PendingActivityInfo p : described.getPendingActivitiesList()) {
      all.add(
          new Pending(
              p.getActivityType().getName(),
              p.getAttempt(),
              p.getState().name().replace("PENDING_ACTIVITY_STATE_", ""),
              p.getLastWorkerIdentity(),
              p.hasLastStartedTime() ? instant(p.getLastStartedTime()) : null,
              p.hasLastHeartbeatTime() ? instant(p.getLastHeartbeatTime()) : null,
              p.hasHeartbeatDetails() ? p.getHeartbeatDetails() : null,
              p.hasLastFailure() ? describe(p.getLastFailure()) : null,
              p.getActivityId()));
    }
    return all;
  }

  public Optional<Pending> pending(String runId, String activityType) {
    return pending(runId).stream().filter(p -> p.activityType().equals(activityType)).findFirst();
  }

  /** A pending activity's last heartbeat, decoded (with the payload key) as {@code type}. */
  public <T> Optional<T> heartbeat(Pending pending, Class<T> type) {
    if (pending.heartbeat() == null) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(converter.fromPayloads(0, Optional.of(pending.heartbeat()), type, type));
    } catch (RuntimeException e) {
      return Optional.empty(); // it heartbeats something else
    }
  }

  /** The (first) argument an activity of the run was scheduled with, decoded as {@code type}. */
  public <T> Optional<T> input(String runId, String activityId, Class<T> type) {
    for (HistoryEvent e : client.fetchHistory(runId).getEvents()) {
      if (e.hasActivityTaskScheduledEventAttributes() && e.getActivityTaskScheduledEventAttributes().getActivityId().equals(activityId)) {
        var input = e.getActivityTaskScheduledEventAttributes().getInput();
        return Optional.ofNullable(converter.fromPayloads(0, Optional.of(input), type, type));
      }
    }
    return Optional.empty();
  }

  /** {@code timeout: HEARTBEAT} for a timeout, else the failure's (decrypted) message. */
  private String describe(Failure failure) {
    if (failure.hasTimeoutFailureInfo()) {
      TimeoutType type = failure.getTimeoutFailureInfo().getTimeoutType();
      return "timeout: " + type.name().replace("TIMEOUT_TYPE_", "");
    }
    try {
      RuntimeException decoded = converter.failureToException(failure);
      return decoded instanceof TemporalFailure t ? t.getOriginalMessage() : decoded.getMessage();
    } catch (RuntimeException e) {
      return failure.getMessage();
    }
  }

  private static Instant instant(com.google.protobuf.Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  @Override
  public void close() {
    stubs.shutdownNow();
  }
}

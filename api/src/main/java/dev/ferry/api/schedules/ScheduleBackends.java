package dev.ferry.api.schedules;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.workflowservice.v1.DescribeScheduleRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks where schedules are kept, by the {@code schedules.backend} setting: {@code native}
 * (Temporal's Schedules), {@code workflow} (a {@code RehearsalScheduleWorkflow} each) or {@code
 * auto}: native when the server answers the Schedule API, workflow when it says UNIMPLEMENTED
 * (the embedded Java test server).
 */
public final class ScheduleBackends {
  private static final Logger log = LoggerFactory.getLogger(ScheduleBackends.class);
  public static final String AUTO = "auto";

  private ScheduleBackends() {}

  public static RehearsalSchedules choose(String setting, WorkflowClient client, String taskQueue, Duration workerWait) {
    return switch (setting) {
      case RehearsalSchedules.NATIVE -> nativeSchedules(client, taskQueue);
      case RehearsalSchedules.WORKFLOW -> new WorkflowSchedules(client, taskQueue, workerWait);
      case AUTO -> {
        Optional<Boolean> hasApi = probe(client);
        if (hasApi.isEmpty()) {
          // Temporal did not answer at start-up: the API starts anyway (its health check says
          // why), and asks again when schedules are first used.
          yield new Detecting(client, taskQueue, workerWait);
        }
        yield hasApi.get() ? nativeSchedules(client, taskQueue) : new WorkflowSchedules(client, taskQueue, workerWait);
      }
      default -> throw new IllegalArgumentException("schedules.backend must be native, workflow or auto, not " + setting);
    };
  }

  static NativeSchedules nativeSchedules(WorkflowClient client, String taskQueue) {
    ScheduleClient schedules =
        ScheduleClient.newInstance(
            client.getWorkflowServiceStubs(),
            ScheduleClientOptions.newBuilder()
                .setNamespace(client.getOptions().getNamespace())
                .setDataConverter(client.getOptions().getDataConverter())
                .build());
    return new NativeSchedules(schedules, taskQueue, Clock.systemUTC());
  }

  /**
   * Whether the server has the Schedule API: a describe of a schedule that does not exist is
   * NOT_FOUND there and UNIMPLEMENTED on the test server; empty when Temporal did not answer.
   */
  static Optional<Boolean> probe(WorkflowClient client) {
    try {
      client
          .getWorkflowServiceStubs()
          .blockingStub()
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .describeSchedule(
              DescribeScheduleRequest.newBuilder()
                  .setNamespace(client.getOptions().getNamespace())
                  .setScheduleId("ferry-probe-does-not-exist")
                  .build());
      return Optional.of(true);
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.UNIMPLEMENTED) {
        log.info("Temporal has no Schedule API: rehearsal schedules are kept by workflows");
        return Optional.of(false);
      }
      if (code == Status.Code.NOT_FOUND) {
        log.info("Temporal has the Schedule API: rehearsal schedules are Temporal schedules");
        return Optional.of(true);
      }
      log.warn("could not tell whether Temporal has the Schedule API ({}); asking again on first use", code);
      return Optional.empty();
    }
  }

  /** {@code auto} when Temporal did not answer at start-up: decides on first use, once. */
  static final class Detecting implements RehearsalSchedules {
    private final WorkflowClient client;
    private final String taskQueue;
    private final Duration workerWait;
    private volatile RehearsalSchedules chosen;

    Detecting(WorkflowClient client, String taskQueue, Duration workerWait) {
      this.client = client;
      this.taskQueue = taskQueue;
      this.workerWait = workerWait;
    }

    private RehearsalSchedules chosen() {
      RehearsalSchedules c = chosen;
      if (c != null) {
        return c;
      }
      synchronized (this) {
        if (chosen == null) {
          Boolean hasApi =
              probe(client).orElseThrow(() -> new ScheduleUnavailableException("Temporal does not answer; try again"));
          chosen = hasApi ? nativeSchedules(client, taskQueue) : new WorkflowSchedules(client, taskQueue, workerWait);
        }
        return chosen;
      }
    }

    @Override
    public String backend() {
      return chosen().backend();
    }

    @Override
    public void create(dev.ferry.model.schedule.ScheduleDefinition definition) {
      chosen().create(definition);
    }

    @Override
    public Optional<dev.ferry.model.schedule.ScheduleStatus> describe(String scheduleId) {
      return chosen().describe(scheduleId);
    }

    @Override
    public dev.ferry.model.schedule.ScheduleStatus pause(String scheduleId, dev.ferry.model.schedule.ScheduleCommand command) {
      return chosen().pause(scheduleId, command);
    }

    @Override
    public dev.ferry.model.schedule.ScheduleStatus resume(String scheduleId, dev.ferry.model.schedule.ScheduleCommand command) {
      return chosen().resume(scheduleId, command);
    }

    @Override
    public dev.ferry.model.schedule.FireRecord trigger(String scheduleId, dev.ferry.model.schedule.ScheduleCommand command) {
      return chosen().trigger(scheduleId, command);
    }

    @Override
    public void delete(String scheduleId, dev.ferry.model.schedule.ScheduleCommand command) {
      chosen().delete(scheduleId, command);
    }
  }
}

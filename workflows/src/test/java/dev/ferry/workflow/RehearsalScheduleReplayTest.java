package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleTiming;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeRehearsalWorkflow;
import dev.ferry.testing.FakeRunOverlap;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Rehearsal schedules' histories replayed against today's code: fires, a skipped overlap,
 * pause, resume, trigger and delete. The recorded ones (in {@code histories/schedules/}) guard
 * schedules in flight against a change that would break them; record new ones with {@code
 * -Dferry.recordHistories=true} after a change guarded by {@code Workflow.getVersion}.
 */
class RehearsalScheduleReplayTest {
  static final Path HISTORIES = Path.of("src/test/resources/histories/schedules");

  @Test
  void everyRecordedScheduleHistoryReplaysWithTheCurrentCode() throws Exception {
    List<Path> files;
    try (Stream<Path> list = Files.list(HISTORIES)) {
      files = list.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(files).as("schedule histories in " + HISTORIES).isNotEmpty();
    for (Path file : files) {
      WorkflowReplayer.replayWorkflowExecution(
          WorkflowExecutionHistory.fromJson(Files.readString(file)), RehearsalScheduleWorkflowImpl.class);
    }
  }

  @Test
  void aScheduleThroughEveryUpdate_replaysDeterministically() throws Exception {
    WorkflowReplayer.replayWorkflowExecution(run(), RehearsalScheduleWorkflowImpl.class);
  }

  @Test
  @EnabledIfSystemProperty(named = "ferry.recordHistories", matches = "true")
  void recordGoldenHistory() throws Exception {
    Files.writeString(HISTORIES.resolve("interval-overlap-pause-trigger-delete.json"), run().toJson(true));
  }

  /** Fires, one skipped while its rehearsal runs, pause, resume, a trigger, delete. */
  private static WorkflowExecutionHistory run() {
    try (TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder().setInitialTime(Instant.parse("2026-03-27T12:00:00Z")).build())) {
      Worker worker = env.newWorker("ferry");
      worker.registerWorkflowImplementationTypes(RehearsalScheduleWorkflowImpl.class, FakeRehearsalWorkflow.class);
      worker.registerActivitiesImplementations(new FakeRunOverlap());
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String id = "schedule-held-replay-" + Long.toHexString(System.nanoTime() & 0xffffffffL);
      RehearsalScheduleWorkflow schedule =
          client.newWorkflowStub(
              RehearsalScheduleWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId(id).build());
      WorkflowClient.start(
          schedule::keep,
          new ScheduleDefinition(
              id,
              RunbookParser.parse(Runbooks.SHOP_YAML.replace("app: shop", "app: held-replay")),
              ScheduleTiming.every(Duration.ofHours(6)),
              true,
              "olivia",
              Instant.parse("2026-03-27T12:00:00Z")),
          null);

      env.sleep(Duration.ofHours(7));
      String rehearsal = Eventually.get("a rehearsal", schedule::describe, s -> s.runningRehearsalId() != null).runningRehearsalId();
      env.sleep(Duration.ofHours(6));
      Eventually.get("a skipped fire", schedule::describe, s -> s.skipped() == 1);
      client.newUntypedWorkflowStub(rehearsal).signal(FakeRehearsalWorkflow.FINISH_SIGNAL);
      Eventually.get("the rehearsal's end", schedule::describe, s -> s.runningRehearsalId() == null);
      schedule.pause(new ScheduleCommand("olivia", "freeze"));
      env.sleep(Duration.ofHours(12));
      schedule.resume(new ScheduleCommand("olivia", null));
      schedule.trigger(new ScheduleCommand("olivia", null));
      schedule.delete(new ScheduleCommand("olivia", "done"));
      Eventually.get(
          "the schedule to end",
          () -> client.newUntypedWorkflowStub(id).describe().getWorkflowExecutionInfo().getStatus(),
          io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED::equals);
      return client.fetchHistory(id);
    }
  }
}

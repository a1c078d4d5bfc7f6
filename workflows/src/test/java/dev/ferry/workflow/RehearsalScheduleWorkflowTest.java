package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.model.schedule.ScheduleTiming;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeRehearsalWorkflow;
import dev.ferry.testing.FakeRunOverlap;
import dev.ferry.testing.Runbooks;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rehearsal schedules kept by {@link RehearsalScheduleWorkflowImpl}, under the time-skipping
 * test server, with a fake rehearsal (same workflow type) that the tests can hold running.
 */
class RehearsalScheduleWorkflowTest {
  /** A Friday noon, two days before Europe's spring clock change (Sunday 29 March 2026). */
  static final Instant START = Instant.parse("2026-03-27T12:00:00Z");

  TestWorkflowEnvironment env;
  WorkflowClient client;
  final FakeRunOverlap overlap = new FakeRunOverlap();
  /** Schedule ids unique across tests: the fake rehearsal's requests are kept for the whole JVM. */
  private static final java.util.concurrent.atomic.AtomicInteger SCHEDULES = new java.util.concurrent.atomic.AtomicInteger();

  @BeforeEach
  void startEnvironment() {
    env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder().setInitialTime(START).build());
    Worker worker = env.newWorker("ferry");
    worker.registerWorkflowImplementationTypes(RehearsalScheduleWorkflowImpl.class, FakeRehearsalWorkflow.class);
    worker.registerActivitiesImplementations(overlap);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  @Test
  void cronSchedule_firesAtItsWallClockTime_acrossTheSpringClockChange() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("30 2 * * *", "Europe/Berlin"));

    env.sleep(Duration.ofDays(3));

    ScheduleStatus status = awaitStatus(schedule, s -> s.recent().size() == 3);
    // 02:30 winter time, 03:30 summer time on the night 02:30 does not exist, 02:30 summer time.
    assertThat(status.recent()).extracting(FireRecord::scheduledFor)
        .containsExactly(Instant.parse("2026-03-30T00:30:00Z"), Instant.parse("2026-03-29T01:30:00Z"), Instant.parse("2026-03-28T01:30:00Z"));
    assertThat(status.recent()).allSatisfy(
        f -> {
          assertThat(f.result()).isEqualTo(FireRecord.Result.STARTED);
          assertThat(f.trigger()).isEqualTo("schedule");
          assertThat(f.at()).isBetween(f.scheduledFor(), f.scheduledFor().plusSeconds(60));
          assertThat(f.rehearsalId()).matches("rehearsal-shop-[0-9a-f]{8}");
        });
    assertThat(status.started()).isEqualTo(3);
    assertThat(status.nextFireAt()).isEqualTo(Instant.parse("2026-03-31T00:30:00Z"));
  }

  @Test
  void intervalSchedule_startsRehearsalsAsTheSchedule_withItsRunbook() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.every(Duration.ofHours(6)));
    String id = id(schedule);

    env.sleep(Duration.ofHours(20)); // 18:00, 00:00, 06:00

    ScheduleStatus status = awaitStatus(schedule, s -> s.started() == 3);
    assertThat(status.recent()).extracting(FireRecord::scheduledFor)
        .containsExactly(Instant.parse("2026-03-28T06:00:00Z"), Instant.parse("2026-03-28T00:00:00Z"), Instant.parse("2026-03-27T18:00:00Z"));
    List<RehearsalRequest> requests = requestsOf(id);
    assertThat(requests).hasSize(3).allSatisfy(
        r -> {
          assertThat(r.startedBy()).isEqualTo("schedule:" + id);
          assertThat(r.scheduleId()).isEqualTo(id);
          assertThat(r.freshSnapshot()).isTrue();
          assertThat(r.runbook().source().databaseUrl()).isEqualTo("env:SHOP_SOURCE_URL");
        });
    // The rehearsals outlive nothing here: each ended, and the schedule noted how.
    assertThat(awaitStatus(schedule, s -> s.recent().stream().allMatch(f -> "finished".equals(f.reason()))).runningRehearsalId()).isNull();
  }

  @Test
  void pausedSchedule_doesNotFire_andFiresAgainOnceResumed() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("0 3 * * *", "UTC"));

    ScheduleStatus paused = schedule.pause(new ScheduleCommand("olivia", "freeze week"));
    env.sleep(Duration.ofDays(2));

    assertThat(paused.state()).isEqualTo(ScheduleStatus.PAUSED);
    assertThat(paused.note()).isEqualTo("paused by olivia: freeze week");
    ScheduleStatus still = schedule.describe();
    assertThat(still.started()).isZero();
    assertThat(still.recent()).isEmpty();
    assertThat(still.nextFireAt()).isNull();

    ScheduleStatus resumed = schedule.resume(new ScheduleCommand("olivia", null));
    assertThat(resumed.state()).isEqualTo(ScheduleStatus.ACTIVE);
    assertThat(resumed.note()).isEqualTo("resumed by olivia");
    env.sleep(Duration.ofDays(1));

    ScheduleStatus after = awaitStatus(schedule, s -> s.started() == 1);
    // Resumed on 29 March at noon: the fires missed while paused are not caught up.
    assertThat(after.recent()).extracting(FireRecord::scheduledFor).containsExactly(Instant.parse("2026-03-30T03:00:00Z"));
  }

  @Test
  void triggerNow_startsARehearsalAtOnce_evenWhenPaused() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("0 3 * * *", "UTC"));
    schedule.pause(new ScheduleCommand("olivia", null));

    FireRecord fired = schedule.trigger(new ScheduleCommand("olivia", null));

    assertThat(fired.result()).isEqualTo(FireRecord.Result.STARTED);
    assertThat(fired.trigger()).isEqualTo("trigger by olivia");
    assertThat(fired.scheduledFor()).isNull();
    assertThat(fired.at()).isBetween(START, START.plusSeconds(60));
    RehearsalReport report = client.newUntypedWorkflowStub(fired.rehearsalId()).getResult(RehearsalReport.class);
    assertThat(report.app()).isEqualTo("shop");
    assertThat(schedule.describe().state()).isEqualTo(ScheduleStatus.PAUSED);
  }

  @Test
  void aFireWhileItsRehearsalStillRuns_isSkippedAndRecorded_thenTheNextOneStarts() {
    RehearsalScheduleWorkflow schedule = create("held-shop", ScheduleTiming.every(Duration.ofHours(6)));

    env.sleep(Duration.ofHours(7)); // 18:00 starts one that keeps running
    String first = awaitStatus(schedule, s -> s.runningRehearsalId() != null).runningRehearsalId();
    env.sleep(Duration.ofHours(6)); // 00:00 overlaps it
    FireRecord byHand = schedule.trigger(new ScheduleCommand("olivia", null)); // so does a trigger

    ScheduleStatus status = awaitStatus(schedule, s -> s.skipped() == 2);
    assertThat(byHand.result()).isEqualTo(FireRecord.Result.SKIPPED);
    assertThat(byHand.reason()).contains(first, "still running");
    FireRecord skipped = status.recent().get(1);
    assertThat(skipped.result()).isEqualTo(FireRecord.Result.SKIPPED);
    assertThat(skipped.scheduledFor()).isEqualTo(Instant.parse("2026-03-28T00:00:00Z"));
    assertThat(skipped.at()).isBetween(skipped.scheduledFor(), skipped.scheduledFor().plusSeconds(60));
    assertThat(skipped.reason()).isEqualTo("rehearsal " + first + " (started " + status.recent().get(2).at() + ") is still running");
    assertThat(status.started()).isEqualTo(1);
    assertThat(status.runningRehearsalId()).isEqualTo(first);

    client.newUntypedWorkflowStub(first).signal(FakeRehearsalWorkflow.FINISH_SIGNAL);
    awaitStatus(schedule, s -> s.runningRehearsalId() == null);
    env.sleep(Duration.ofHours(6)); // 06:00 starts the next

    ScheduleStatus later = awaitStatus(schedule, s -> s.started() == 2);
    assertThat(later.recent().get(0).result()).isEqualTo(FireRecord.Result.STARTED);
    assertThat(later.recent().get(0).rehearsalId()).isNotEqualTo(first);
    assertThat(later.recent()).filteredOn(f -> first.equals(f.rehearsalId())).singleElement()
        .satisfies(f -> assertThat(f.reason()).isEqualTo("finished"));
  }

  @Test
  void aFireWhileAMigrationOfTheAppRuns_isSkipped_namingIt() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("0 3 * * *", "UTC"));
    overlap.running("shop", "migration-shop-0a1b2c3d");

    FireRecord fired = schedule.trigger(new ScheduleCommand("olivia", null));

    assertThat(fired.result()).isEqualTo(FireRecord.Result.SKIPPED);
    assertThat(fired.reason()).isEqualTo("migration-shop-0a1b2c3d is still running");
    assertThat(schedule.describe().skipped()).isEqualTo(1);
  }

  @Test
  void delete_endsTheSchedule_andTheRehearsalItStartedGoesOn() {
    RehearsalScheduleWorkflow schedule = create("held-shop", ScheduleTiming.cron("0 3 * * *", "UTC"));
    String rehearsal = schedule.trigger(new ScheduleCommand("olivia", null)).rehearsalId();

    ScheduleStatus deleted = schedule.delete(new ScheduleCommand("olivia", "app retired"));
    // Not getResult: waiting on it lets the test server skip time, and the held rehearsal with it.
    awaitClosed(id(schedule), WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);

    assertThat(deleted.state()).isEqualTo(ScheduleStatus.DELETED);
    assertThat(deleted.note()).isEqualTo("deleted by olivia: app retired");
    assertThat(client.newUntypedWorkflowStub(rehearsal).describe().getWorkflowExecutionInfo().getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assertThatThrownBy(() -> schedule.trigger(new ScheduleCommand("olivia", null))).isInstanceOf(RuntimeException.class);
    client.newUntypedWorkflowStub(rehearsal).signal(FakeRehearsalWorkflow.FINISH_SIGNAL);
    assertThat(client.newUntypedWorkflowStub(rehearsal).getResult(RehearsalReport.class).succeeded()).isTrue();
  }

  @Test
  void anUpdateWithoutWho_isRefused() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("0 3 * * *", "UTC"));

    assertThatThrownBy(() -> schedule.pause(new ScheduleCommand(" ", null))).isInstanceOf(RuntimeException.class);
    assertThat(schedule.describe().state()).isEqualTo(ScheduleStatus.ACTIVE);
  }

  @Test
  void manyFires_continueAsNew_keepingCountersAndTheLatestFires() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.every(Duration.ofMinutes(5)));
    String firstRun = WorkflowStub.fromTyped(schedule).getExecution().getRunId();

    env.sleep(Duration.ofMinutes(5 * 60 + 2)); // 60 fires, past FIRES_PER_RUN

    ScheduleStatus status = awaitStatus(schedule, s -> s.started() == 60);
    assertThat(status.recent()).hasSize(ScheduleStatus.RECENT_FIRES);
    assertThat(status.recent().get(0).scheduledFor()).isEqualTo(START.plus(Duration.ofMinutes(5 * 60)));
    String runNow = client.newUntypedWorkflowStub(id(schedule)).describe().getWorkflowExecutionInfo().getExecution().getRunId();
    assertThat(runNow).isNotEqualTo(firstRun);
  }

  @Test
  void aTimingThatCannotFire_failsTheScheduleAtOnce() {
    RehearsalScheduleWorkflow schedule = create("shop", ScheduleTiming.cron("99 2 * * *", "UTC"));

    assertThatThrownBy(() -> WorkflowStub.fromTyped(schedule).getResult(Void.class))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SCHEDULE_INVALID));
  }

  private RehearsalScheduleWorkflow create(String app, ScheduleTiming timing) {
    String id = "schedule-" + app + "-" + String.format("%08x", SCHEDULES.incrementAndGet());
    Runbook runbook = RunbookParser.parse(Runbooks.SHOP_YAML.replace("app: shop", "app: " + app));
    RehearsalScheduleWorkflow schedule =
        client.newWorkflowStub(
            RehearsalScheduleWorkflow.class, WorkflowOptions.newBuilder().setTaskQueue("ferry").setWorkflowId(id).build());
    WorkflowClient.start(schedule::keep, new ScheduleDefinition(id, runbook, timing, true, "olivia", START), null);
    return schedule;
  }

  private void awaitClosed(String workflowId, WorkflowExecutionStatus status) {
    Eventually.get(
        workflowId + " to close", () -> client.newUntypedWorkflowStub(workflowId).describe().getWorkflowExecutionInfo().getStatus(), status::equals);
  }

  private static String id(RehearsalScheduleWorkflow schedule) {
    return WorkflowStub.fromTyped(schedule).getExecution().getWorkflowId();
  }

  private static List<RehearsalRequest> requestsOf(String scheduleId) {
    return FakeRehearsalWorkflow.REQUESTS.stream().filter(r -> scheduleId.equals(r.scheduleId())).toList();
  }

  private static ScheduleStatus awaitStatus(RehearsalScheduleWorkflow schedule, Predicate<ScheduleStatus> done) {
    return Eventually.get("the schedule's status", schedule::describe, s -> s != null && done.test(s));
  }
}

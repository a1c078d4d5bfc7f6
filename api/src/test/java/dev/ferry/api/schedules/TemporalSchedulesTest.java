package dev.ferry.api.schedules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.api.schedule.v1.ScheduleActionResult;
import io.temporal.api.schedule.v1.ScheduleInfo;
import io.temporal.api.schedule.v1.ScheduleState;
import io.temporal.api.workflowservice.v1.DescribeScheduleResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What Ferry asks of Temporal's Schedules: the schedule built from a definition, Temporal's
 * description read back, and, on the real server, the fire times Temporal computes from what
 * Ferry built: a cron in Europe/Berlin across both daylight-saving changes (asked for, not
 * waited for), and an interval counted from the epoch.
 */
class TemporalSchedulesTest {
  static final Instant CREATED = Instant.parse("2026-11-22T10:00:00Z");
  static final TemporalDevServer SERVER = TemporalDevServer.start();
  static final WorkflowServiceStubs STUBS =
      WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(SERVER.address()).build());
  static final TemporalSchedules SCHEDULES =
      new TemporalSchedules(
          WorkflowClient.newInstance(
              STUBS,
              WorkflowClientOptions.newBuilder()
                  .setDataConverter(PayloadEncryption.of(PayloadEncryption.randomKey(), "").dataConverter())
                  .build()),
          "ferry",
          Clock.systemUTC());

  @AfterAll
  static void stop() {
    STUBS.shutdownNow();
    SERVER.close();
  }

  static ScheduleDefinition definition(String id, ScheduleTiming timing) {
    return new ScheduleDefinition(id, RunbookParser.parse(Runbooks.SHOP_YAML), timing, true, "olivia", CREATED);
  }

  @Test
  void aCronSchedule_startsRehearsalWorkflow_inItsTimeZone_skippingOverlaps() {
    Schedule s =
        TemporalSchedules.scheduleFor(
            definition("schedule-shop-0a1b2c3d", ScheduleTiming.cron(" 0 2 * * MON-FRI ", "Europe/Berlin")), "ferry", false, "created by olivia");

    assertThat(s.getSpec().getCronExpressions()).containsExactly("0 2 * * MON-FRI");
    assertThat(s.getSpec().getIntervals()).isNullOrEmpty();
    assertThat(s.getSpec().getTimeZoneName()).isEqualTo("Europe/Berlin");
    assertThat(s.getPolicy().getOverlap()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP);
    assertThat(s.getPolicy().getCatchupWindow()).isEqualTo(Duration.ofMinutes(10));
    assertThat(s.getState().getNote()).isEqualTo("created by olivia");
    assertThat(s.getState().isPaused()).isFalse();

    ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) s.getAction();
    assertThat(action.getWorkflowType()).isEqualTo("RehearsalWorkflow");
    assertThat(action.getOptions().getTaskQueue()).isEqualTo("ferry");
    assertThat(action.getOptions().getWorkflowId()).isEqualTo("rehearsal-shop-0a1b2c3d");
    assertThat(action.getOptions().getMemo()).containsEntry("app", "shop").containsEntry("scheduleId", "schedule-shop-0a1b2c3d");
    RehearsalRequest request = action.getArguments().get(0, RehearsalRequest.class);
    assertThat(request.startedBy()).isEqualTo("schedule:schedule-shop-0a1b2c3d");
    assertThat(request.scheduleId()).isEqualTo("schedule-shop-0a1b2c3d");
    assertThat(request.freshSnapshot()).isTrue();
    // References travel, never secrets.
    assertThat(request.runbook().source().databaseUrl()).isEqualTo("env:SHOP_SOURCE_URL");
  }

  @Test
  void anIntervalSchedule_isAnIntervalSpec() {
    Schedule s =
        TemporalSchedules.scheduleFor(definition("schedule-shop-0a1b2c3d", ScheduleTiming.every(Duration.ofHours(6))), "ferry", true, "paused");

    assertThat(s.getSpec().getCronExpressions()).isNullOrEmpty();
    assertThat(s.getSpec().getIntervals()).singleElement().satisfies(i -> assertThat(i.getEvery()).isEqualTo(Duration.ofHours(6)));
    assertThat(s.getSpec().getTimeZoneName()).isEqualTo("UTC");
    assertThat(s.getState().isPaused()).isTrue();
  }

  @Test
  void temporalsDescription_becomesFerrysStatus_newestActionFirst() {
    Instant t1 = Instant.parse("2026-11-21T01:00:00Z");
    Instant t2 = Instant.parse("2026-11-22T01:00:00Z");
    DescribeScheduleResponse d =
        DescribeScheduleResponse.newBuilder()
            .setSchedule(
                io.temporal.api.schedule.v1.Schedule.newBuilder()
                    .setState(ScheduleState.newBuilder().setPaused(true).setNotes("paused by olivia: freeze week")))
            .setInfo(
                ScheduleInfo.newBuilder()
                    .setActionCount(2)
                    .setOverlapSkipped(3)
                    .addRunningWorkflows(execution("rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z"))
                    .addRecentActions(action(t1, "rehearsal-shop-0a1b2c3d-2026-11-21T01:00:00Z"))
                    .addRecentActions(action(t2, "rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z"))
                    .addFutureActionTimes(timestamp(Instant.parse("2026-11-23T01:00:00Z")))
                    .setCreateTime(timestamp(CREATED))
                    .setUpdateTime(timestamp(t2)))
            .build();

    ScheduleStatus status = TemporalSchedules.statusOf(d);

    assertThat(status.state()).isEqualTo(ScheduleStatus.PAUSED);
    assertThat(status.note()).isEqualTo("paused by olivia: freeze week");
    assertThat(status.nextFireAt()).isNull();
    assertThat(status.actions()).isEqualTo(2);
    assertThat(status.skippedOverlap()).isEqualTo(3);
    assertThat(status.running()).containsExactly("rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z");
    assertThat(status.recent()).extracting(ScheduleStatus.Action::scheduledAt).containsExactly(t2, t1);
    assertThat(status.updatedAt()).isEqualTo(t2);
  }

  @Test
  void onTheRealServer_aBerlinCron_firesAtWallClockTime_acrossBothDaylightSavingChanges() {
    String id = "schedule-berlin-0000dd01";
    // Paused: it must never fire here; Temporal computes its fire times all the same.
    SCHEDULES.create(definition(id, ScheduleTiming.cron("30 2 * * *", "Europe/Berlin")), true, "a test of fire times");

    // 28 March 2027: 02:30 does not exist in Berlin (02:00 CET becomes 03:00 CEST): Temporal
    // does not fire that night at all (the workflow-kept schedules fired at 03:30 instead).
    assertThat(SCHEDULES.matchingTimes(id, Instant.parse("2027-03-26T12:00:00Z"), Instant.parse("2027-03-29T12:00:00Z")))
        .containsExactly(
            Instant.parse("2027-03-27T01:30:00Z"), // 02:30 CET (UTC+1)
            Instant.parse("2027-03-29T00:30:00Z")); // 02:30 CEST (UTC+2)
    // 31 October 2027: 02:30 happens twice (CEST, then CET): Temporal fires once, at the second.
    assertThat(SCHEDULES.matchingTimes(id, Instant.parse("2027-10-29T12:00:00Z"), Instant.parse("2027-11-01T12:00:00Z")))
        .containsExactly(
            Instant.parse("2027-10-30T00:30:00Z"), // 02:30 CEST
            Instant.parse("2027-10-31T01:30:00Z"), // the second 02:30, CET (UTC+1)
            Instant.parse("2027-11-01T01:30:00Z")); // 02:30 CET
  }

  @Test
  void onTheRealServer_anInterval_firesFromTheEpoch_whateverItsZone() {
    String id = "schedule-sixhours-0000dd02";
    SCHEDULES.create(definition(id, ScheduleTiming.every(Duration.ofHours(6))), true, "a test of fire times");

    assertThat(SCHEDULES.matchingTimes(id, Instant.parse("2026-11-22T13:14:15Z"), Instant.parse("2026-11-23T06:00:00Z")))
        .containsExactly(
            Instant.parse("2026-11-22T18:00:00Z"), Instant.parse("2026-11-23T00:00:00Z"), Instant.parse("2026-11-23T06:00:00Z"));
    assertThat(SCHEDULES.describe(id)).hasValueSatisfying(s -> {
      assertThat(s.paused()).isTrue();
      assertThat(s.note()).isEqualTo("a test of fire times");
    });
  }

  @Test
  void creatingTheSameScheduleAgain_changesNothing_andAnUnknownOneIsGone() {
    String id = "schedule-twice-0000dd03";
    ScheduleDefinition d = definition(id, ScheduleTiming.cron("0 2 29 2 *", "UTC"));
    SCHEDULES.create(d, true, "first");
    SCHEDULES.create(d, false, "second");

    assertThat(SCHEDULES.describe(id)).hasValueSatisfying(s -> assertThat(s.note()).isEqualTo("first"));
    assertThat(SCHEDULES.describe("schedule-nowhere-00000000")).isEmpty();
    assertThatThrownBy(() -> SCHEDULES.pause("schedule-nowhere-00000000", new ScheduleCommand("olivia", null)))
        .isInstanceOf(TemporalSchedules.ScheduleGoneException.class);
  }

  private static WorkflowExecution execution(String id) {
    return WorkflowExecution.newBuilder().setWorkflowId(id).setRunId("run").build();
  }

  private static ScheduleActionResult action(Instant at, String workflowId) {
    return ScheduleActionResult.newBuilder()
        .setScheduleTime(timestamp(at))
        .setActualTime(timestamp(at.plusMillis(40)))
        .setStartWorkflowResult(execution(workflowId))
        .build();
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}

package dev.ferry.api.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.model.schedule.ScheduleTiming;
import dev.ferry.testing.Runbooks;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow;
import io.temporal.client.schedules.ScheduleActionResult;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleInfo;
import io.temporal.client.schedules.ScheduleState;
import io.temporal.common.SearchAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What Ferry asks of Temporal's native Schedules, checked without a server (the only one here,
 * the Java test server, has no Schedule API): the schedule built from a definition, and the
 * description read back.
 */
class NativeSchedulesTest {
  static final Instant CREATED = Instant.parse("2026-11-22T10:00:00Z");

  static ScheduleDefinition definition(ScheduleTiming timing) {
    return new ScheduleDefinition("schedule-shop-0a1b2c3d", RunbookParser.parse(Runbooks.SHOP_YAML), timing, true, "olivia", CREATED);
  }

  @Test
  void aCronSchedule_startsRehearsalWorkflow_inItsTimeZone_skippingOverlaps() {
    Schedule s = NativeSchedules.scheduleFor(definition(ScheduleTiming.cron(" 0 2 * * MON-FRI ", "Europe/Berlin")), "ferry");

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
    Schedule s = NativeSchedules.scheduleFor(definition(ScheduleTiming.every(Duration.ofHours(6))), "ferry");

    assertThat(s.getSpec().getCronExpressions()).isNullOrEmpty();
    assertThat(s.getSpec().getIntervals()).singleElement().satisfies(i -> assertThat(i.getEvery()).isEqualTo(Duration.ofHours(6)));
    assertThat(s.getSpec().getTimeZoneName()).isEqualTo("UTC");
  }

  @Test
  void temporalsDescription_becomesFerrysStatus_newestFireFirst() {
    Instant t1 = Instant.parse("2026-11-21T01:00:00Z");
    Instant t2 = Instant.parse("2026-11-22T01:00:00Z");
    ScheduleInfo info =
        new ScheduleInfo(
            2,
            0,
            3,
            List.of(new ScheduleActionExecutionStartWorkflow("rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z", "run-2")),
            List.of(
                new ScheduleActionResult(t1, t1.plusMillis(40), new ScheduleActionExecutionStartWorkflow("rehearsal-shop-0a1b2c3d-2026-11-21T01:00:00Z", "run-1")),
                new ScheduleActionResult(t2, t2.plusMillis(30), new ScheduleActionExecutionStartWorkflow("rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z", "run-2"))),
            List.of(Instant.parse("2026-11-23T01:00:00Z")),
            CREATED,
            t2);
    Schedule schedule =
        Schedule.newBuilder(NativeSchedules.scheduleFor(definition(ScheduleTiming.cron("0 2 * * *", "Europe/Berlin")), "ferry"))
            .setState(ScheduleState.newBuilder().setPaused(true).setNote("paused by olivia: freeze week").build())
            .build();

    ScheduleStatus status =
        NativeSchedules.statusOf(new ScheduleDescription("schedule-shop-0a1b2c3d", info, schedule, Map.of(), SearchAttributes.EMPTY, Map.of(), null));

    assertThat(status.state()).isEqualTo(ScheduleStatus.PAUSED);
    assertThat(status.note()).isEqualTo("paused by olivia: freeze week");
    assertThat(status.nextFireAt()).isNull();
    assertThat(status.started()).isEqualTo(2);
    assertThat(status.skipped()).isEqualTo(3);
    assertThat(status.runningRehearsalId()).isEqualTo("rehearsal-shop-0a1b2c3d-2026-11-22T01:00:00Z");
    assertThat(status.recent()).extracting(FireRecord::scheduledFor).containsExactly(t2, t1);
    assertThat(status.recent()).allSatisfy(f -> assertThat(f.result()).isEqualTo(FireRecord.Result.STARTED));
  }
}

package dev.ferry.api.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.representations.ScheduleView;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.jackson.Jackson;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Schedules of the removed workflow-kept backend, as a deployment that set {@code
 * schedules.backend: workflow} on a real server has them: a RehearsalScheduleWorkflow that
 * workers no longer know (its workflow tasks fail), and a ledger row whose workflow an
 * in-memory server forgot. The API makes both Temporal schedules when it starts.
 */
class WorkflowScheduleConversionTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory(), true);
  static final WorkflowServiceStubs STUBS =
      WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(TEMPORAL.address()).build());
  static final WorkflowClient CLIENT =
      WorkflowClient.newInstance(
          STUBS, WorkflowClientOptions.newBuilder().setDataConverter(PayloadEncryption.of(TEMPORAL.payloadKey(), "").dataConverter()).build());
  static final ObjectMapper JSON = FerryApplication.configure(Jackson.newObjectMapper());
  static final ScheduleRegistry REGISTRY = new ScheduleRegistry(TEMPORAL.ledger().database(), JSON);
  static final TemporalSchedules SCHEDULES = new TemporalSchedules(CLIENT, "ferry", Clock.systemUTC());

  @AfterAll
  static void stop() {
    STUBS.shutdownNow();
    TEMPORAL.close();
  }

  static ScheduleDefinition definition(String id, String app) {
    return new ScheduleDefinition(
        id, RunbookParser.parse(Runbooks.SHOP_YAML.replace("app: shop", "app: " + app)), ScheduleTiming.cron("0 2 29 2 *", "Europe/Berlin"),
        true, "olivia", Instant.parse("2026-11-20T10:00:00Z"));
  }

  @Test
  void workflowKeptSchedules_becomeTemporalSchedules_theirOldWorkflowTerminated_once() throws Exception {
    String stuck = "schedule-legacy-0000aa01";
    String forgotten = "schedule-forgot-0000aa02";
    String deleted = "schedule-gone-0000aa03";
    REGISTRY.claim(definition(stuck, "legacy"), ScheduleRegistry.KEPT_BY_WORKFLOW);
    REGISTRY.activate(stuck);
    REGISTRY.paused(stuck, true);
    REGISTRY.claim(definition(forgotten, "forgot"), ScheduleRegistry.KEPT_BY_WORKFLOW);
    REGISTRY.activate(forgotten);
    REGISTRY.claim(definition(deleted, "gone"), ScheduleRegistry.KEPT_BY_WORKFLOW);
    REGISTRY.activate(deleted);
    REGISTRY.deleted(deleted, "olivia");
    // The old schedule workflow on the shared queue, whose worker no longer has its type.
    CLIENT.newUntypedWorkflowStub("RehearsalScheduleWorkflow", WorkflowOptions.newBuilder().setWorkflowId(stuck).setTaskQueue("ferry").build())
        .start(Map.of("scheduleId", stuck));
    HistoryEvent failed =
        Eventually.get(
            "the old workflow's task to fail on a worker without its type",
            () -> history(stuck).stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).findFirst().orElse(null),
            e -> e != null);
    // Failure messages are encrypted like payloads: read with the key.
    Exception why = CLIENT.getOptions().getDataConverter().failureToException(failed.getWorkflowTaskFailedEventAttributes().getFailure());
    assertThat(why.getMessage()).contains("RehearsalScheduleWorkflow");
    assertThat(status(stuck)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);

    WorkflowScheduleConversion conversion = new WorkflowScheduleConversion(SCHEDULES, REGISTRY, CLIENT, Clock.systemUTC());
    assertThat(conversion.convert()).isEqualTo(2);

    RehearsalSchedules schedules = new RehearsalSchedules(SCHEDULES, REGISTRY, Clock.systemUTC());
    ScheduleView a = schedules.view(REGISTRY.find(stuck).orElseThrow());
    assertThat(a.state()).isEqualTo("PAUSED");
    assertThat(a.note()).contains("paused when Ferry made it a Temporal schedule");
    assertThat(a.cron()).isEqualTo("0 2 29 2 *");
    assertThat(a.history()).extracting(ScheduleView.Change::type).containsExactly("CONVERTED");
    assertThat(a.history().get(0).note()).contains("its workflow was terminated");
    assertThat(status(stuck)).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
    ScheduleView b = schedules.view(REGISTRY.find(forgotten).orElseThrow());
    assertThat(b.state()).isEqualTo("ACTIVE");
    assertThat(b.nextFireAt()).isEqualTo("2028-02-29T01:00:00Z");
    assertThat(b.history().get(0).note()).contains("Temporal had no workflow of it");
    assertThat(REGISTRY.find(deleted).orElseThrow().backend()).isEqualTo(ScheduleRegistry.KEPT_BY_WORKFLOW);
    assertThat(SCHEDULES.describe(deleted)).isEmpty();

    assertThat(conversion.convert()).as("once only").isZero();
  }

  private static List<HistoryEvent> history(String workflowId) {
    return CLIENT.fetchHistory(workflowId).getHistory().getEventsList();
  }

  private static WorkflowExecutionStatus status(String workflowId) {
    return CLIENT.newUntypedWorkflowStub(workflowId).describe().getWorkflowExecutionInfo().getStatus();
  }
}

package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.schedules.RehearsalSchedules;
import dev.ferry.api.schedules.ScheduleBackends;
import dev.ferry.api.schedules.ScheduleRestorer;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleTiming;
import dev.ferry.api.testing.CountingStarts;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeRehearsalWorkflow;
import dev.ferry.testing.FakeRunOverlap;
import dev.ferry.testing.Runbooks;
import dev.ferry.workflow.RehearsalScheduleWorkflowImpl;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The schedules API over HTTP, as the application registers it (auth, error mappers, JSON), on
 * Temporal's test server (no Schedule API: the auto choice keeps schedules as workflows) with a
 * fake rehearsal, and a ledger database of its own.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SchedulesResourceTest {
  static final CountingStarts CLIENT = new CountingStarts();
  static final FakeRunOverlap OVERLAP = new FakeRunOverlap();
  static final TestWorkflowEnvironment TEMPORAL = startTemporal();
  static final TestLedger LEDGER = TestLedger.create();
  static final ObjectMapper JSON = FerryApplication.configure(Jackson.newObjectMapper());
  static final ScheduleRegistry REGISTRY = new ScheduleRegistry(LEDGER.database(), JSON);
  static final RehearsalSchedules SCHEDULES =
      ScheduleBackends.choose("auto", TEMPORAL.getWorkflowClient(), "ferry", Duration.ofSeconds(15));
  static final ResourceExtension API = api(SCHEDULES);
  /** The same API forced onto Temporal's Schedules, which this server does not have. */
  static final ResourceExtension NATIVE_API =
      api(ScheduleBackends.choose("native", TEMPORAL.getWorkflowClient(), "ferry", Duration.ofSeconds(15)));

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder()
                .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setInterceptors(CLIENT).build())
                .build());
    Worker worker = env.newWorker("ferry");
    worker.registerWorkflowImplementationTypes(RehearsalScheduleWorkflowImpl.class, FakeRehearsalWorkflow.class);
    worker.registerActivitiesImplementations(OVERLAP);
    env.start();
    return env;
  }

  static ResourceExtension api(RehearsalSchedules schedules) {
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(JSON)
            .addResource(new SchedulesResource(schedules, REGISTRY, RunbookReader.fieldsOnly(), Clock.systemUTC()));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  @AfterAll
  static void stop() {
    TEMPORAL.close();
    LEDGER.close();
  }

  @Test
  void onAServerWithoutScheduleApi_autoKeepsSchedulesAsWorkflows() {
    assertThat(SCHEDULES.backend()).isEqualTo(RehearsalSchedules.WORKFLOW);
  }

  @Test
  void anOperatorCreatesASchedule_thatAnyoneCanListAndRead() {
    Response created = create("olivia", body("nightly", "0 2 * * *", null, "Europe/Berlin"));

    assertThat(created.getStatus()).isEqualTo(201);
    JsonNode view = created.readEntity(JsonNode.class);
    String id = view.path("scheduleId").asText();
    assertThat(id).matches("schedule-nightly-[0-9a-f]{8}");
    assertThat(created.getLocation().getPath()).isEqualTo("/api/schedules/" + id);
    assertThat(view.path("backend").asText()).isEqualTo("workflow");
    assertThat(view.path("cron").asText()).isEqualTo("0 2 * * *");
    assertThat(view.path("timezone").asText()).isEqualTo("Europe/Berlin");
    assertThat(view.path("createdBy").asText()).isEqualTo("olivia");
    JsonNode read = Eventually.get("the schedule's first fire time", () -> get("val", "/api/schedules/" + id), v -> v.has("nextFireAt"));
    assertThat(read.path("state").asText()).isEqualTo("ACTIVE");
    assertThat(read.path("started").asLong()).isZero();
    assertThat(get("arjun", "/api/schedules?app=nightly").path("schedules").findValuesAsText("scheduleId")).containsExactly(id);
    assertThat(get("val", "/api/schedules").path("backend").asText()).isEqualTo("workflow");
  }

  @Test
  void anIntervalSchedule_takesTheRunbookAsAnObject() throws Exception {
    ObjectNode body = body("intervals", null, "6h", null);
    body.set("runbook", new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(Runbooks.SHOP_YAML.replace("app: shop", "app: intervals")));

    JsonNode view = create("olivia", body).readEntity(JsonNode.class);

    assertThat(view.path("interval").asText()).isEqualTo("6h");
    assertThat(view.path("timezone").asText()).isEqualTo("UTC");
    assertThat(view.has("cron")).isFalse();
  }

  @Test
  void pauseAndResume_areShownWithWhoAndWhy() {
    String id = created("pausing");

    JsonNode paused = post("olivia", "/api/schedules/" + id + "/pause", "{\"note\":\"freeze week\"}");
    JsonNode resumed = post("olivia", "/api/schedules/" + id + "/resume", "{}");

    assertThat(paused.path("state").asText()).isEqualTo("PAUSED");
    assertThat(paused.path("note").asText()).isEqualTo("paused by olivia: freeze week");
    assertThat(paused.has("nextFireAt")).isFalse();
    assertThat(resumed.path("state").asText()).isEqualTo("ACTIVE");
    assertThat(get("val", "/api/schedules/" + id).path("note").asText()).isEqualTo("resumed by olivia");
  }

  @Test
  void triggerNow_startsARehearsal_andAnOverlappingTriggerIsSkippedAndRecorded() {
    String id = created("held-trigger");

    JsonNode first = post("olivia", "/api/schedules/" + id + "/trigger", "{}").path("fire");
    JsonNode second = post("olivia", "/api/schedules/" + id + "/trigger", "{}").path("fire");

    assertThat(first.path("result").asText()).isEqualTo("STARTED");
    String rehearsal = first.path("rehearsalId").asText();
    assertThat(rehearsal).matches("rehearsal-held-trigger-[0-9a-f]{8}");
    assertThat(first.path("trigger").asText()).isEqualTo("trigger by olivia");
    assertThat(second.path("result").asText()).isEqualTo("SKIPPED");
    assertThat(second.path("reason").asText()).contains(rehearsal, "still running");
    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("runningRehearsalId").asText()).isEqualTo(rehearsal);
    assertThat(view.path("skipped").asLong()).isEqualTo(1);
    assertThat(view.path("recent").findValuesAsText("result")).containsExactly("SKIPPED", "STARTED");
    TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(rehearsal).signal(FakeRehearsalWorkflow.FINISH_SIGNAL);
  }

  @Test
  void delete_endsTheScheduleInTemporal_andItLeavesTheList() {
    String id = created("deleting");

    Response deleted = request("olivia", "/api/schedules/" + id).delete();

    assertThat(deleted.getStatus()).isEqualTo(200);
    assertThat(deleted.readEntity(JsonNode.class).path("state").asText()).isEqualTo("DELETED");
    Eventually.get(
        "the schedule's workflow to end",
        () -> TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(id).describe().getWorkflowExecutionInfo().getStatus(),
        WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED::equals);
    assertThat(get("val", "/api/schedules?app=deleting").path("schedules")).isEmpty();
    assertThat(get("val", "/api/schedules/" + id).path("note").asText()).isEqualTo("deleted by olivia");
    assertThat(request("olivia", "/api/schedules/" + id + "/trigger").post(Entity.json("{}")).getStatus()).isEqualTo(409);
    assertThat(request("olivia", "/api/schedules/" + id).delete().getStatus()).isEqualTo(409);
  }

  @Test
  void schedulesTemporalLost_areCreatedAgainOnStart_pausedOnesPaused_endedOnesLeftAlone() throws Exception {
    // As after ./ferry dev restarts: the ledger has the schedules, the new embedded server none.
    ScheduleDefinition lost =
        new ScheduleDefinition(
            "schedule-restored-0000abcd",
            dev.ferry.model.runbook.RunbookParser.parse(Runbooks.SHOP_YAML.replace("app: shop", "app: restored")),
            ScheduleTiming.cron("0 2 * * *", "Europe/Berlin"),
            true,
            "olivia",
            java.time.Instant.parse("2026-11-20T10:00:00Z"));
    REGISTRY.claim(lost, RehearsalSchedules.WORKFLOW);
    REGISTRY.activate(lost.scheduleId());
    REGISTRY.paused(lost.scheduleId(), true);
    String terminated = created("terminated");
    TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(terminated).terminate("from the Temporal UI");

    int restored = new ScheduleRestorer(SCHEDULES, REGISTRY).restore();

    assertThat(restored).isEqualTo(1);
    JsonNode view = get("val", "/api/schedules/" + lost.scheduleId());
    assertThat(view.path("state").asText()).isEqualTo("PAUSED");
    assertThat(view.path("cron").asText()).isEqualTo("0 2 * * *");
    assertThat(view.path("createdBy").asText()).isEqualTo("olivia");
    assertThat(get("val", "/api/schedules/" + terminated).path("state").asText()).isEqualTo("MISSING");
    assertThat(TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(terminated).describe().getWorkflowExecutionInfo().getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  }

  static List<Object[]> badBodies() {
    return List.of(
        new Object[] {body("bad", "61 2 * * *", null, null), List.of("cron")},
        new Object[] {body("bad", "0 2 * *", null, null), List.of("cron")},
        new Object[] {body("bad", null, "often", null), List.of("interval")},
        new Object[] {body("bad", null, "1m", null), List.of("interval")},
        new Object[] {body("bad", "0 2 * * *", null, "Mars/Olympus"), List.of("timezone")},
        new Object[] {body("bad", "0 2 * * *", "6h", null), List.of("interval")},
        new Object[] {body("bad", null, null, null), List.of("cron")},
        new Object[] {body(null, "0 2 * * *", null, null), List.of("runbook")},
        new Object[] {body("Bad_App", "0 2 * * *", null, null), List.of("runbook.app")},
        new Object[] {body("Bad_App", "0 2 * *", "often", "Nowhere/Here"), List.of("runbook.app", "interval", "cron", "timezone")});
  }

  @ParameterizedTest
  @MethodSource("badBodies")
  void badInput_is422NamingEveryField_andNothingIsCreated(ObjectNode body, List<String> fields) throws SQLException {
    long rows = REGISTRY.count();
    int starts = CLIENT.count();

    Response r = create("olivia", body);

    assertThat(r.getStatus()).isEqualTo(422);
    assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactlyInAnyOrderElementsOf(fields);
    assertThat(REGISTRY.count()).isEqualTo(rows);
    assertThat(CLIENT.count()).isEqualTo(starts);
  }

  @Test
  void aBodyWithAnUnknownField_is400_andNothingIsCreated() throws SQLException {
    long rows = REGISTRY.count();
    ObjectNode body = body("unknown", "0 2 * * *", null, null);
    body.put("cronn", "0 3 * * *");

    assertThat(create("olivia", body).getStatus()).isEqualTo(400);
    assertThat(REGISTRY.count()).isEqualTo(rows);
  }

  @Test
  void viewersAndApproversRead_onlyOperatorsManage() throws SQLException {
    String id = created("roles");
    long rows = REGISTRY.count();

    assertThat(create("val", body("roles", "0 2 * * *", null, null)).getStatus()).isEqualTo(403);
    assertThat(create("arjun", body("roles", "0 2 * * *", null, null)).getStatus()).isEqualTo(403);
    assertThat(request("val", "/api/schedules/" + id + "/pause").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("arjun", "/api/schedules/" + id + "/trigger").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("val", "/api/schedules/" + id).delete().getStatus()).isEqualTo(403);
    assertThat(API.client().target(API.target("/").getUri().resolve("api/schedules")).request().get().getStatus()).isEqualTo(401);
    assertThat(REGISTRY.count()).isEqualTo(rows);
    assertThat(get("val", "/api/schedules/" + id).path("state").asText()).isEqualTo("ACTIVE");
  }

  @Test
  void unknownOrMalformedIds_are404() {
    assertThat(request("val", "/api/schedules/schedule-shop-00000000").get().getStatus()).isEqualTo(404);
    assertThat(request("val", "/api/schedules/x';drop%20table%20schedules;--").get().getStatus()).isEqualTo(404);
    assertThat(request("olivia", "/api/schedules/schedule-shop-00000000/pause").post(Entity.json("{}")).getStatus()).isEqualTo(404);
    assertThat(request("val", "/api/schedules?app=Shop!").get().getStatus()).isEqualTo(400);
  }

  @Test
  void nativeSchedules_onAServerWithoutThem_are503_andNothingIsLeftInTheLedger() throws SQLException {
    long rows = REGISTRY.count();

    Response r =
        NATIVE_API.client().target(NATIVE_API.target("/").getUri().resolve("api/schedules")).request().header("Authorization", TestUsers.bearer("olivia"))
            .post(Entity.json(body("native", "0 2 * * *", null, null)));

    assertThat(r.getStatus()).isEqualTo(503);
    assertThat(r.readEntity(JsonNode.class).path("message").asText()).contains("no Schedule API");
    assertThat(REGISTRY.count()).isEqualTo(rows);
  }

  static ObjectNode body(String app, String cron, String interval, String timezone) {
    ObjectNode body = JSON.createObjectNode();
    if (app != null) {
      body.put("runbook", Runbooks.SHOP_YAML.replace("app: shop", "app: " + app));
    }
    if (cron != null) {
      body.put("cron", cron);
    }
    if (interval != null) {
      body.put("interval", interval);
    }
    if (timezone != null) {
      body.put("timezone", timezone);
    }
    return body;
  }

  static String created(String app) {
    Response r = create("olivia", body(app, "0 2 * * *", null, "UTC"));
    assertThat(r.getStatus()).isEqualTo(201);
    return r.readEntity(JsonNode.class).path("scheduleId").asText();
  }

  static Response create(String user, ObjectNode body) {
    return request(user, "/api/schedules").post(Entity.json(body));
  }

  static JsonNode post(String user, String path, String json) {
    Response r = request(user, path).post(Entity.json(json));
    assertThat(r.getStatus()).as("POST %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }

  static Invocation.Builder request(String user, String path) {
    return API.client().target(API.target("/").getUri().resolve(path.substring(1))).request()
        .header("Authorization", TestUsers.bearer(user));
  }

  static JsonNode get(String user, String path) {
    Response r = request(user, path).get();
    assertThat(r.getStatus()).as("GET %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }
}

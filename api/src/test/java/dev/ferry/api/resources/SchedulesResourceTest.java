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
import dev.ferry.api.schedules.TemporalSchedules;
import dev.ferry.api.testing.CountingStarts;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.api.testing.TemporalCli;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.model.RunKind;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The schedules API over HTTP, as the application registers it (auth, error mappers, JSON), on
 * the real Temporal server: its Schedules fire the real rehearsal workflow (against fake
 * databases, its events and reports in this test's real ledger), and Temporal's own CLI sees
 * and changes what the API made. The schedules here fire at 02:00 on 29 February only (never
 * during a run of this test, but on one night every four years) unless a test needs a timed
 * fire; a rehearsal is held running by holding its restore.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SchedulesResourceTest {
  /** Fires at 02:00 on 29 February only. */
  static final String RARELY = "0 2 29 2 *";

  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory(), true);
  static final CountingStarts CLIENT = new CountingStarts();
  static final WorkflowServiceStubs STUBS =
      WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(TEMPORAL.address()).build());
  static final WorkflowClient TEMPORAL_CLIENT =
      WorkflowClient.newInstance(
          STUBS,
          WorkflowClientOptions.newBuilder()
              .setDataConverter(PayloadEncryption.of(TEMPORAL.payloadKey(), "").dataConverter())
              .setInterceptors(CLIENT)
              .build());
  static final ObjectMapper JSON = FerryApplication.configure(Jackson.newObjectMapper());
  static final ScheduleRegistry REGISTRY = new ScheduleRegistry(TEMPORAL.ledger().database(), JSON);
  static final RehearsalSchedules SCHEDULES =
      new RehearsalSchedules(new TemporalSchedules(TEMPORAL_CLIENT, "ferry", Clock.systemUTC()), REGISTRY, Clock.systemUTC());
  static final ResourceExtension API = api();
  static final TemporalCli CLI = new TemporalCli(TEMPORAL.address());

  static ResourceExtension api() {
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(JSON)
            .addResource(new SchedulesResource(SCHEDULES, RunbookReader.fieldsOnly(), Clock.systemUTC(), Duration.ofSeconds(1)));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  @AfterAll
  static void stop() {
    STUBS.shutdownNow();
    TEMPORAL.close();
  }

  @Test
  void anOperatorCreatesASchedule_aTemporalScheduleThatAnyoneCanListAndRead() {
    Response created = create("olivia", body("nightly", "0 2 29 2 *", null, "Europe/Berlin"));

    assertThat(created.getStatus()).isEqualTo(201);
    JsonNode view = created.readEntity(JsonNode.class);
    String id = view.path("scheduleId").asText();
    assertThat(id).matches("schedule-nightly-[0-9a-f]{8}");
    assertThat(created.getLocation().getPath()).isEqualTo("/api/schedules/" + id);
    assertThat(view.path("state").asText()).isEqualTo("ACTIVE");
    assertThat(view.path("cron").asText()).isEqualTo(RARELY);
    assertThat(view.path("timezone").asText()).isEqualTo("Europe/Berlin");
    assertThat(view.path("createdBy").asText()).isEqualTo("olivia");
    assertThat(view.path("note").asText()).isEqualTo("created by olivia");
    // 02:00 Berlin on the next 29 February: 01:00 UTC (winter time).
    assertThat(view.path("nextFireAt").asText()).isEqualTo("2028-02-29T01:00:00Z");
    assertThat(view.path("started").asLong()).isZero();
    assertThat(view.path("history").findValuesAsText("type")).containsExactly("CREATED");
    assertThat(get("arjun", "/api/schedules?app=nightly").path("schedules").findValuesAsText("scheduleId")).containsExactly(id);

    // The same schedule, seen with Temporal's own CLI.
    assertThat(CLI.run("schedule", "list")).contains(id);
    String described = CLI.run("schedule", "describe", "--schedule-id", id);
    assertThat(described)
        .contains("\"hour\":\"2\",\"dayOfMonth\":\"29\",\"month\":\"2\"", "Europe/Berlin", "RehearsalWorkflow", "Skip", "created by olivia")
        // The rehearsal's input (the runbook) is a payload like any other: encrypted.
        .contains("encryption-key-id")
        .doesNotContain("env:SHOP_SOURCE_URL");
  }

  @Test
  void anIntervalSchedule_takesTheRunbookAsAnObject() throws Exception {
    ObjectNode body = body("intervals", null, "6h", null);
    body.set(
        "runbook",
        new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(Runbooks.SHOP_YAML.replace("app: shop", "app: intervals")));

    JsonNode view = create("olivia", body).readEntity(JsonNode.class);

    assertThat(view.path("interval").asText()).isEqualTo("6h");
    assertThat(view.path("timezone").asText()).isEqualTo("UTC");
    assertThat(view.has("cron")).isFalse();
    Instant next = Instant.parse(view.path("nextFireAt").asText());
    assertThat(next.getEpochSecond() % Duration.ofHours(6).toSeconds()).as("6h from the epoch").isZero();
    request("olivia", "/api/schedules/" + view.path("scheduleId").asText()).delete();
  }

  @Test
  void pauseAndResume_areShownWithWhoAndWhy_inFerryAndInTemporal() {
    String id = created("pausing");

    JsonNode paused = post("olivia", "/api/schedules/" + id + "/pause", "{\"note\":\"freeze week\"}");
    assertThat(paused.path("state").asText()).isEqualTo("PAUSED");
    assertThat(paused.path("note").asText()).isEqualTo("paused by olivia: freeze week");
    assertThat(paused.has("nextFireAt")).isFalse();
    assertThat(CLI.run("schedule", "describe", "--schedule-id", id)).contains("paused by olivia: freeze week");

    JsonNode resumed = post("olivia", "/api/schedules/" + id + "/resume", "{}");
    assertThat(resumed.path("state").asText()).isEqualTo("ACTIVE");
    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("note").asText()).isEqualTo("resumed by olivia");
    assertThat(view.path("history").findValuesAsText("type")).containsExactly("RESUMED", "PAUSED", "CREATED");
    assertThat(view.path("history").get(1).path("note").asText()).isEqualTo("freeze week");
  }

  @Test
  void aSchedulePausedFromTheTemporalCli_showsPausedInFerry_andResumesFromIt() {
    String id = created("cli-paused");

    CLI.run("schedule", "toggle", "--schedule-id", id, "--pause", "--reason", "paused from the CLI by arjun");

    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("state").asText()).isEqualTo("PAUSED");
    assertThat(view.path("note").asText()).isEqualTo("paused from the CLI by arjun");
    CLI.run("schedule", "toggle", "--schedule-id", id, "--unpause", "--reason", "back");
    assertThat(get("val", "/api/schedules/" + id).path("state").asText()).isEqualTo("ACTIVE");
  }

  @Test
  void triggerNow_startsARehearsal_andATriggerWhileItRuns_isSkippedByTemporal_andRecorded() {
    String id = created("held-trigger");
    TEMPORAL.databases.holdRestore();
    try {
      JsonNode first = post("olivia", "/api/schedules/" + id + "/trigger", "{}").path("fire");
      assertThat(first.path("result").asText()).isEqualTo("STARTED");
      String rehearsal = first.path("rehearsalId").asText();
      assertThat(rehearsal).matches("rehearsal-held-trigger-[0-9a-f]{8}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
      assertThat(first.path("trigger").asText()).isEqualTo("trigger by olivia");
      Eventually.get("the rehearsal to reach its restore", () -> ledgerPhase(rehearsal), "restore"::equals);

      JsonNode second = post("olivia", "/api/schedules/" + id + "/trigger", "{\"note\":\"again\"}").path("fire");

      assertThat(second.path("result").asText()).isEqualTo("SKIPPED");
      assertThat(second.has("rehearsalId")).isFalse();
      assertThat(second.path("reason").asText()).contains(rehearsal, "still running");
      JsonNode view = get("val", "/api/schedules/" + id);
      assertThat(view.path("runningRehearsalId").asText()).isEqualTo(rehearsal);
      assertThat(view.path("started").asLong()).isEqualTo(1);
      assertThat(view.path("skipped").asLong()).isEqualTo(1);
      assertThat(view.path("recent").findValuesAsText("result")).containsExactly("SKIPPED", "STARTED");
      assertThat(view.path("recent").findValuesAsText("trigger")).containsExactly("trigger by olivia", "trigger by olivia");
      assertThat(view.path("recent").get(0).path("reason").asText()).contains(rehearsal);
      assertThat(view.path("history").get(0).path("result").asText()).isEqualTo("SKIPPED");
    } finally {
      TEMPORAL.databases.releaseRestore();
    }
    JsonNode done =
        Eventually.get(
            "the rehearsal to succeed",
            () -> get("val", "/api/schedules/" + id),
            v -> "succeeded".equals(v.path("recent").get(1).path("reason").asText()));
    assertThat(done.has("runningRehearsalId")).isFalse();
  }

  @Test
  void aFireWhileAMigrationOfTheAppRuns_isSkippedByTheRehearsal_andRecordedWithWhy() throws Exception {
    String id = created("migrating");
    // A migration of the app, in the ledger and running in Temporal (no worker polls its queue).
    String migration = "migration-migrating-0000cafe";
    TEMPORAL.ledger().ledger().claim(
        migration, RunKind.MIGRATION, RunbookParser.parse(Runbooks.SHOP_YAML.replace("app: shop", "app: migrating")), "olivia", null, "0");
    TEMPORAL_CLIENT
        .newUntypedWorkflowStub("MigrationWorkflow", WorkflowOptions.newBuilder().setWorkflowId(migration).setTaskQueue("nobody-polls").build())
        .start();

    JsonNode fire = post("olivia", "/api/schedules/" + id + "/trigger", "{}").path("fire");

    assertThat(fire.path("result").asText()).isEqualTo("SKIPPED");
    assertThat(fire.path("rehearsalId").asText()).startsWith("rehearsal-migrating-");
    assertThat(fire.path("reason").asText()).contains("not rehearsed", migration);
    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("started").asLong()).isZero();
    assertThat(view.path("skipped").asLong()).isEqualTo(1);
    assertThat(view.path("recent")).singleElement().satisfies(f -> {
      assertThat(f.path("result").asText()).isEqualTo("SKIPPED");
      assertThat(f.path("reason").asText()).contains(migration);
      assertThat(f.path("trigger").asText()).isEqualTo("trigger by olivia");
    });
    TEMPORAL_CLIENT.newUntypedWorkflowStub(migration).terminate("test over");
  }

  @Test
  void aTimedFire_startsARehearsal_andTheFiresWhileItRuns_areSkippedAndRecordedAtTheirTimes() {
    TEMPORAL.databases.holdRestore();
    String id;
    String rehearsal;
    try {
      Response r = create("olivia", body("held-timed", null, "2s", null));
      assertThat(r.getStatus()).isEqualTo(201);
      id = r.readEntity(JsonNode.class).path("scheduleId").asText();

      // Temporal fires on its own; the rehearsal it started is held in its restore.
      JsonNode started =
          Eventually.get(
              "a timed fire that started a rehearsal",
              () -> get("val", "/api/schedules/" + id),
              v -> StreamSupport.stream(v.path("recent").spliterator(), false).anyMatch(f -> f.path("result").asText().equals("STARTED")));
      JsonNode fire = StreamSupport.stream(started.path("recent").spliterator(), false).filter(f -> f.path("result").asText().equals("STARTED")).findFirst().orElseThrow();
      rehearsal = fire.path("rehearsalId").asText();
      assertThat(fire.path("trigger").asText()).isEqualTo("schedule");
      assertThat(Instant.parse(fire.path("scheduledFor").asText()).getEpochSecond() % 2).as("a fire time of every 2s").isZero();

      // The next fire times come while it runs: Temporal skips them, Ferry lists them.
      JsonNode skipped =
          Eventually.get(
              "two fires skipped while the rehearsal runs",
              () -> get("val", "/api/schedules/" + id),
              v -> v.path("skipped").asLong() >= 2 && skippedFires(v) >= 2);
      CLI.run("schedule", "toggle", "--schedule-id", id, "--pause", "--reason", "enough fires for this test");
      JsonNode view = get("val", "/api/schedules/" + id);
      assertThat(view.path("started").asLong()).isEqualTo(1);
      assertThat(skippedFires(view)).as("every fire Temporal skipped is listed").isEqualTo(view.path("skipped").asLong());
      for (JsonNode f : view.path("recent")) {
        if (f.path("result").asText().equals("SKIPPED")) {
          assertThat(f.path("trigger").asText()).isEqualTo("schedule");
          assertThat(f.path("reason").asText()).isEqualTo("the schedule's rehearsal " + rehearsal + " was still running (overlap policy SKIP)");
          assertThat(Instant.parse(f.path("at").asText())).isAfter(Instant.parse(fire.path("scheduledFor").asText()));
          assertThat(Instant.parse(f.path("at").asText()).getEpochSecond() % 2).isZero();
        }
      }
    } finally {
      TEMPORAL.databases.releaseRestore();
    }
    Eventually.get("the rehearsal to end", () -> get("val", "/api/schedules/" + id), v -> !v.has("runningRehearsalId"));
    request("olivia", "/api/schedules/" + id).delete();
  }

  @Test
  void delete_endsTheScheduleInTemporal_keepsItsRecord_andItLeavesTheList() {
    String id = created("deleting");

    Response deleted = request("olivia", "/api/schedules/" + id).delete();

    assertThat(deleted.getStatus()).isEqualTo(200);
    assertThat(deleted.readEntity(JsonNode.class).path("state").asText()).isEqualTo("DELETED");
    assertThat(CLI.tryRun("schedule", "describe", "--schedule-id", id).exitCode()).isNotZero();
    assertThat(get("val", "/api/schedules?app=deleting").path("schedules")).isEmpty();
    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("note").asText()).isEqualTo("deleted by olivia");
    assertThat(view.path("history").findValuesAsText("type")).containsExactly("DELETED", "CREATED");
    assertThat(request("olivia", "/api/schedules/" + id + "/trigger").post(Entity.json("{}")).getStatus()).isEqualTo(409);
    assertThat(request("olivia", "/api/schedules/" + id).delete().getStatus()).isEqualTo(409);
  }

  @Test
  void aScheduleDeletedFromTheTemporalCli_isMissing_untilItIsDeletedHereToo() {
    String id = created("cli-deleted");

    CLI.run("schedule", "delete", "--schedule-id", id);

    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("state").asText()).isEqualTo("MISSING");
    assertThat(view.path("problem").asText()).contains("deleted outside Ferry");
    assertThat(request("olivia", "/api/schedules/" + id + "/pause").post(Entity.json("{}")).getStatus()).isEqualTo(409);
    assertThat(request("olivia", "/api/schedules/" + id).delete().getStatus()).isEqualTo(200);
    assertThat(get("val", "/api/schedules/" + id).path("state").asText()).isEqualTo("DELETED");
  }

  static List<Object[]> badBodies() {
    return List.of(
        new Object[] {body("bad", "61 2 * * *", null, null), List.of("cron")},
        new Object[] {body("bad", "0 2 * *", null, null), List.of("cron")},
        new Object[] {body("bad", null, "often", null), List.of("interval")},
        new Object[] {body("bad", null, "500ms", null), List.of("interval")},
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
    long schedules = temporalSchedules();

    Response r = create("olivia", body);

    assertThat(r.getStatus()).isEqualTo(422);
    assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactlyInAnyOrderElementsOf(fields);
    assertThat(REGISTRY.count()).isEqualTo(rows);
    assertThat(temporalSchedules()).isEqualTo(schedules);
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
    int starts = CLIENT.count();

    assertThat(create("val", body("roles", "0 2 * * *", null, null)).getStatus()).isEqualTo(403);
    assertThat(create("arjun", body("roles", "0 2 * * *", null, null)).getStatus()).isEqualTo(403);
    assertThat(request("val", "/api/schedules/" + id + "/pause").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("arjun", "/api/schedules/" + id + "/trigger").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("val", "/api/schedules/" + id).delete().getStatus()).isEqualTo(403);
    assertThat(API.client().target(API.target("/").getUri().resolve("api/schedules")).request().get().getStatus()).isEqualTo(401);
    assertThat(REGISTRY.count()).isEqualTo(rows);
    assertThat(CLIENT.count()).isEqualTo(starts);
    JsonNode view = get("val", "/api/schedules/" + id);
    assertThat(view.path("state").asText()).isEqualTo("ACTIVE");
    assertThat(view.path("history").findValuesAsText("type")).containsExactly("CREATED");
  }

  @Test
  void unknownOrMalformedIds_are404() {
    assertThat(request("val", "/api/schedules/schedule-shop-00000000").get().getStatus()).isEqualTo(404);
    assertThat(request("val", "/api/schedules/x';drop%20table%20schedules;--").get().getStatus()).isEqualTo(404);
    assertThat(request("olivia", "/api/schedules/schedule-shop-00000000/pause").post(Entity.json("{}")).getStatus()).isEqualTo(404);
    assertThat(request("val", "/api/schedules?app=Shop!").get().getStatus()).isEqualTo(400);
  }

  private static long skippedFires(JsonNode view) {
    return StreamSupport.stream(view.path("recent").spliterator(), false).filter(f -> f.path("result").asText().equals("SKIPPED")).count();
  }

  private static String ledgerPhase(String runId) {
    try {
      return TEMPORAL.ledger().ledger().find(runId).map(r -> r.phase()).orElse(null);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** How many schedules Temporal has, by its own CLI. */
  private static long temporalSchedules() {
    return CLI.run("schedule", "list").lines().filter(l -> l.contains("schedule-")).count();
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
    Response r = create("olivia", body(app, RARELY, null, "UTC"));
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

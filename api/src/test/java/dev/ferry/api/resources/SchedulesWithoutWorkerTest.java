package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.schedules.RehearsalSchedules;
import dev.ferry.api.schedules.TemporalSchedules;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Schedules when no worker runs (Temporal keeps them all the same: a trigger starts a rehearsal
 * that waits for a worker) and when Temporal itself is down (reads say so, changes are 503,
 * nothing is left half made, and nothing hangs).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchedulesWithoutWorkerTest {
  static final TemporalDevServer SERVER = TemporalDevServer.start();
  static final TestLedger LEDGER = TestLedger.create();
  static final ObjectMapper JSON = FerryApplication.configure(Jackson.newObjectMapper());
  static final WorkflowServiceStubs STUBS =
      WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(SERVER.address()).build());
  static final ScheduleRegistry REGISTRY = new ScheduleRegistry(LEDGER.database(), JSON);
  static final ResourceExtension API = api();

  static ResourceExtension api() {
    WorkflowClient client =
        WorkflowClient.newInstance(
            STUBS,
            WorkflowClientOptions.newBuilder()
                .setDataConverter(PayloadEncryption.of(PayloadEncryption.randomKey(), "").dataConverter())
                .build());
    RehearsalSchedules schedules =
        new RehearsalSchedules(new TemporalSchedules(client, "ferry", Clock.systemUTC()), REGISTRY, Clock.systemUTC(), Duration.ofSeconds(2));
    ResourceExtension.Builder builder =
        ResourceExtension.builder().setMapper(JSON).addResource(new SchedulesResource(schedules, RunbookReader.fieldsOnly(), Clock.systemUTC()));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  @AfterAll
  static void stop() {
    STUBS.shutdownNow();
    SERVER.close();
    LEDGER.close();
  }

  @Test
  @Order(1)
  void withoutAWorker_schedulesAreKeptByTemporal_andATriggerStartsARehearsalThatWaitsForOne() {
    Response created = request("olivia", "/api/schedules").post(Entity.json(body("noworker")));
    assertThat(created.getStatus()).isEqualTo(201);
    String id = created.readEntity(JsonNode.class).path("scheduleId").asText();

    JsonNode list = request("val", "/api/schedules?app=noworker").get(JsonNode.class);
    assertThat(list.path("schedules").findValuesAsText("state")).containsExactly("ACTIVE");
    Response paused = request("olivia", "/api/schedules/" + id + "/pause").post(Entity.json("{}"));
    assertThat(paused.getStatus()).isEqualTo(200);
    assertThat(paused.readEntity(JsonNode.class).path("state").asText()).isEqualTo("PAUSED");

    JsonNode fire = request("olivia", "/api/schedules/" + id + "/trigger").post(Entity.json("{}"), JsonNode.class).path("fire");
    assertThat(fire.path("result").asText()).isEqualTo("STARTED");
    String rehearsal = fire.path("rehearsalId").asText();
    assertThat(rehearsal).startsWith("rehearsal-noworker-");
    assertThat(request("val", "/api/schedules/" + id).get(JsonNode.class).path("runningRehearsalId").asText()).isEqualTo(rehearsal);
  }

  @Test
  @Order(2)
  void whenTemporalIsDown_readsSaySo_changesAre503_andACreateLeavesNothing() throws Exception {
    request("olivia", "/api/schedules").post(Entity.json(body("downtime"))).close();
    request("olivia", "/api/schedules").post(Entity.json(body("downtime"))).close();
    SERVER.kill();
    long rows = REGISTRY.count();

    long started = System.nanoTime();
    JsonNode list = request("val", "/api/schedules?app=downtime").get(JsonNode.class);
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(list.path("schedules").findValuesAsText("state")).containsExactly("UNKNOWN", "UNKNOWN");
    assertThat(list.path("schedules").findValuesAsText("problem")).allSatisfy(p -> assertThat(p).contains("Temporal did not answer"));
    assertThat(took).as("one bounded call, not one per schedule").isLessThan(Duration.ofSeconds(15));
    String id = list.path("schedules").get(0).path("scheduleId").asText();
    Response pause = request("olivia", "/api/schedules/" + id + "/pause").post(Entity.json("{}"));
    assertThat(pause.getStatus()).isEqualTo(503);
    assertThat(pause.readEntity(JsonNode.class).path("message").asText()).contains("Temporal did not answer");
    Response create = request("olivia", "/api/schedules").post(Entity.json(body("downtime")));
    assertThat(create.getStatus()).isEqualTo(503);
    assertThat(REGISTRY.count()).isEqualTo(rows);
  }

  static Map<String, String> body(String app) {
    return Map.of("runbook", Runbooks.SHOP_YAML.replace("app: shop", "app: " + app), "cron", "0 2 29 2 *");
  }

  static Invocation.Builder request(String user, String path) {
    return API.client().target(API.target("/").getUri().resolve(path.substring(1))).request()
        .header("Authorization", TestUsers.bearer(user));
  }
}

package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.schedules.WorkflowSchedules;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.testing.Runbooks;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.testing.TestWorkflowEnvironment;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Workflow-kept schedules when no worker runs: reads say so, changes are 503, nothing hangs. */
@ExtendWith(DropwizardExtensionsSupport.class)
class SchedulesWithoutWorkerTest {
  static final TestWorkflowEnvironment TEMPORAL = startTemporal();
  static final TestLedger LEDGER = TestLedger.create();
  static final ObjectMapper JSON = FerryApplication.configure(Jackson.newObjectMapper());
  static final ResourceExtension API = api();

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    env.start(); // no worker polls "ferry"
    return env;
  }

  static ResourceExtension api() {
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(JSON)
            .addResource(
                new SchedulesResource(
                    new WorkflowSchedules(TEMPORAL.getWorkflowClient(), "ferry", Duration.ofSeconds(1)),
                    new ScheduleRegistry(LEDGER.database(), JSON),
                    RunbookReader.fieldsOnly(),
                    Clock.systemUTC()));
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
  void withoutAWorker_schedulesAreCreated_readsSayNoWorkerAnswered_andChangesAre503() {
    Map<String, String> body = Map.of("runbook", Runbooks.SHOP_YAML.replace("app: shop", "app: noworker"), "cron", "0 2 * * *");
    Response first = request("olivia", "/api/schedules").post(Entity.json(body));
    Response second = request("olivia", "/api/schedules").post(Entity.json(body));

    assertThat(first.getStatus()).isEqualTo(201);
    assertThat(second.getStatus()).isEqualTo(201);
    String id = first.readEntity(JsonNode.class).path("scheduleId").asText();

    JsonNode list = request("val", "/api/schedules?app=noworker").get(JsonNode.class);
    assertThat(list.path("schedules").findValuesAsText("state")).containsExactly("UNKNOWN", "UNKNOWN");
    assertThat(list.path("schedules").findValuesAsText("problem")).allSatisfy(p -> assertThat(p).contains("no Ferry worker answered"));
    Response pause = request("olivia", "/api/schedules/" + id + "/pause").post(Entity.json("{}"));
    assertThat(pause.getStatus()).isEqualTo(503);
    assertThat(pause.readEntity(JsonNode.class).path("message").asText()).contains("is a worker running?");
  }

  static Invocation.Builder request(String user, String path) {
    return API.client().target(API.target("/").getUri().resolve(path.substring(1))).request()
        .header("Authorization", TestUsers.bearer(user));
  }
}

package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.api.testing.TemporalCli;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import jakarta.ws.rs.client.Client;
import jakarta.ws.rs.client.ClientBuilder;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.core.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Schedules outlive the API and the Temporal server: made and changed through one API process
 * (and Temporal's CLI), they are all there, in the state they were left, for the next API after
 * the server was killed and started again on its database file.
 */
class SchedulesSurviveRestartTest {
  static final Path DB = dbFile();
  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory().withDbFile(DB), true);
  static final TemporalCli CLI = new TemporalCli(TEMPORAL.address());
  static final Client HTTP = ClientBuilder.newClient();
  /** The dev config's users (README): olivia the operator, val the viewer. */
  static final String OPERATOR = "Bearer ferry-dev-operator";
  static final String VIEWER = "Bearer ferry-dev-viewer";

  static Path dbFile() {
    try {
      return Files.createTempDirectory("ferry-schedules-restart").resolve("temporal.db");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @AfterAll
  static void stop() {
    HTTP.close();
    TEMPORAL.close();
  }

  @Test
  void schedulesAndTheirState_surviveAnApiRestart_andATemporalRestart() throws Exception {
    String paused;
    String triggered;
    DropwizardAppExtension<FerryConfiguration> first = TEMPORAL.devApp();
    first.before();
    try {
      paused = create(first, "restart-a");
      triggered = create(first, "restart-b");
      assertThat(post(first, "/api/schedules/" + paused + "/pause", "{\"note\":\"until the new disks\"}").getStatus()).isEqualTo(200);
      Response fire = post(first, "/api/schedules/" + triggered + "/trigger", "{}");
      assertThat(fire.readEntity(JsonNode.class).path("fire").path("result").asText()).isEqualTo("STARTED");
      Eventually.get("the triggered rehearsal to succeed", () -> get(first, "/api/schedules/" + triggered),
          v -> "succeeded".equals(v.path("recent").path(0).path("reason").asText()));
      CLI.run("schedule", "toggle", "--schedule-id", triggered, "--pause", "--reason", "paused from the Temporal CLI");
    } finally {
      first.after();
    }
    TEMPORAL.server().kill();
    TEMPORAL.server().restart();
    assertThat(CLI.run("schedule", "list")).contains(paused, triggered);

    DropwizardAppExtension<FerryConfiguration> second = TEMPORAL.devApp();
    second.before();
    try {
      JsonNode a = get(second, "/api/schedules/" + paused);
      assertThat(a.path("state").asText()).isEqualTo("PAUSED");
      assertThat(a.path("note").asText()).isEqualTo("paused by olivia: until the new disks");
      assertThat(a.path("history").findValuesAsText("type")).containsExactly("PAUSED", "CREATED");

      JsonNode b = get(second, "/api/schedules/" + triggered);
      assertThat(b.path("state").asText()).isEqualTo("PAUSED");
      assertThat(b.path("note").asText()).isEqualTo("paused from the Temporal CLI");
      assertThat(b.path("started").asLong()).isEqualTo(1);
      assertThat(b.path("recent")).singleElement().satisfies(f -> {
        assertThat(f.path("result").asText()).isEqualTo("STARTED");
        assertThat(f.path("trigger").asText()).isEqualTo("trigger by olivia");
        assertThat(f.path("reason").asText()).isEqualTo("succeeded");
      });
      assertThat(get(second, "/api/schedules?app=restart-b").path("schedules").findValuesAsText("scheduleId")).containsExactly(triggered);

      // And they still work: resumed and fired through the new API.
      assertThat(post(second, "/api/schedules/" + triggered + "/resume", "{}").getStatus()).isEqualTo(200);
      Response again = post(second, "/api/schedules/" + triggered + "/trigger", "{}");
      assertThat(again.readEntity(JsonNode.class).path("fire").path("result").asText()).isEqualTo("STARTED");
    } finally {
      second.after();
    }
  }

  private static String create(DropwizardAppExtension<FerryConfiguration> app, String name) {
    Response r =
        HTTP.target(base(app) + "/api/schedules").request().header("Authorization", OPERATOR)
            .post(Entity.json(Map.of("runbook", Runbooks.SHOP_YAML.replace("app: shop", "app: " + name), "cron", "0 2 29 2 *")));
    assertThat(r.getStatus()).isEqualTo(201);
    return r.readEntity(JsonNode.class).path("scheduleId").asText();
  }

  private static Response post(DropwizardAppExtension<FerryConfiguration> app, String path, String json) {
    return HTTP.target(base(app) + path).request().header("Authorization", OPERATOR).post(Entity.json(json));
  }

  private static JsonNode get(DropwizardAppExtension<FerryConfiguration> app, String path) {
    Response r = HTTP.target(base(app) + path).request().header("Authorization", VIEWER).get();
    assertThat(r.getStatus()).as("GET %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }

  private static String base(DropwizardAppExtension<FerryConfiguration> app) {
    return "http://127.0.0.1:" + app.getLocalPort();
  }
}

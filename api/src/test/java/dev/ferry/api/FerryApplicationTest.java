package dev.ferry.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.resources.RunsResource;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole application as it ships: the dev configuration file (so the README's tokens are
 * tested), real Jetty, real auth, against Temporal's test server on a port, in real time, with
 * a worker running the real workflow and fake databases.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class FerryApplicationTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void everyResourceMethodRequiresARole() {
    List<Method> endpoints =
        Arrays.stream(RunsResource.class.getDeclaredMethods())
            .filter(m -> m.isAnnotationPresent(GET.class) || m.isAnnotationPresent(POST.class))
            .toList();

    assertThat(endpoints).hasSize(4);
    assertThat(endpoints)
        .allSatisfy(m -> assertThat(m.getAnnotation(RolesAllowed.class)).as(m.getName()).isNotNull());
  }

  @Test
  void everyEndpointRefusesACallWithoutToken() {
    String run = "/api/runs/migration-shop-00000000";
    List<Invocation> calls =
        List.of(
            request("/api/runs", null).buildPost(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")),
            request(run, null).buildGet(),
            request(run + "/gates/start/approve", null).buildPost(Entity.json("{}")),
            request(run + "/gates/start/reject", null).buildPost(Entity.json("{\"comment\":\"x\"}")));

    assertThat(calls).allSatisfy(call -> {
      Response r = call.invoke();
      assertThat(r.getStatus()).isEqualTo(401);
      assertThat(r.getMediaType().toString()).startsWith("application/json");
    });
  }

  @Test
  void devTokensFromTheReadme_startApproveAndWatchARun() {
    Response started =
        request("/api/runs", "ferry-dev-operator").post(Entity.entity(Runbooks.SHOP_YAML.replace("approvers: [arjun, beatriz]", "approvers: [arjun]"), "application/yaml"));
    assertThat(started.getStatus()).isEqualTo(201);
    String runId = started.readEntity(JsonNode.class).path("runId").asText();
    Eventually.get(
        "the start gate",
        () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
        s -> "AWAITING_APPROVAL".equals(s.path("state").asText()));

    Response approved = request("/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver").post(Entity.json("{\"comment\":\"go\"}"));

    assertThat(approved.getStatus()).isEqualTo(200);
    approved.close();
    JsonNode atDecommission =
        Eventually.get(
            "the decommission gate",
            () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
            s -> "decommission".equals(s.path("pendingGate").path("gate").asText()));
    String digest = atDecommission.path("pendingGate").path("evidenceDigest").asText();
    try (Response decommissioned =
        request("/api/runs/" + runId + "/gates/decommission/approve", "ferry-dev-approver")
            .post(Entity.json("{\"comment\":\"verified\",\"evidenceDigest\":\"" + digest + "\"}"))) {
      assertThat(decommissioned.getStatus()).isEqualTo(200);
    }
    JsonNode done =
        Eventually.get(
            "the run to succeed",
            () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
            s -> "SUCCEEDED".equals(s.path("state").asText()));
    assertThat(done.path("startedBy").asText()).isEqualTo("olivia");
    assertThat(done.path("decisions").get(0).path("decidedBy").asText()).isEqualTo("arjun");
  }

  @Test
  void aBodyOverOneMebibyte_413BeforeItIsRead() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + "/api/runs"))
                    .header("Authorization", "Bearer ferry-dev-operator")
                    .header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString("#" + "x".repeat(2 * 1024 * 1024)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.body()).contains("at most 1024 KiB");
  }

  @Test
  void healthCheck_reportsTemporalReachable() {
    Response health =
        APP.client().target("http://127.0.0.1:" + APP.getAdminPort() + "/healthcheck").request().get();

    assertThat(health.getStatus()).isEqualTo(200);
    assertThat(health.readEntity(JsonNode.class).path("temporal").path("healthy").asBoolean()).isTrue();
  }

  private static Invocation.Builder request(String path, String token) {
    Invocation.Builder b = APP.client().target("http://127.0.0.1:" + APP.getLocalPort() + path).request();
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }
}

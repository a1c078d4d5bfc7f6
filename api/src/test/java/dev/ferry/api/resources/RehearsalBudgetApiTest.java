package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cutover budget through the API: with no rehearsal on record the start gate answers 409
 * with the reason and how to override; an override with a comment opens it and is kept.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RehearsalBudgetApiTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void anOverBudgetGate_is409NamingTheReason_andAnOverrideWithAReasonOpensIt() throws Exception {
    String runbook = Runbooks.SHOP_YAML.replace("app: shop", "app: budgeted") + "rehearsals:\n  maxDowntime: 5m\n";
    HttpResponse<String> started = send("POST", "/api/runs", "ferry-dev-operator", runbook, "application/yaml");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String runId = JSON.readTree(started.body()).path("runId").asText();
    JsonNode atGate =
        Eventually.get("the start gate", () -> status(runId), s -> "start".equals(s.path("pendingGate").path("gate").asText()));
    assertThat(atGate.path("pendingGate").path("evidence").toString()).contains("OVER BUDGET", "no rehearsal of budgeted has run");

    HttpResponse<String> refused =
        send("POST", "/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver", "{\"comment\":\"looks fine\"}", "application/json");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
    assertThat(JSON.readTree(refused.body()).path("message").asText()).contains("no rehearsal of budgeted has run", "override:");

    HttpResponse<String> overridden =
        send("POST", "/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver",
            "{\"comment\":\"override: first move of a 2 MB database, rehearsed by hand\"}", "application/json");
    assertThat(overridden.statusCode()).as(overridden.body()).isEqualTo(200);

    // The override is kept in the decision and noted in the run (this test stack's worker writes
    // its own events to a fake ledger; the workflow tests check the NOTE event), and the refused
    // attempt is in the API's audit trail.
    JsonNode after =
        Eventually.get("the override noted", () -> status(runId), s -> s.path("notes").toString().contains("cutover budget overridden"));
    assertThat(after.path("decisions").get(0).path("comment").asText()).startsWith("override: first move");
    assertThat(after.path("notes").toString()).contains("cutover budget overridden at gate start by arjun");
    JsonNode events = JSON.readTree(send("GET", "/api/runs/" + runId + "/events", "ferry-dev-viewer", null, null).body());
    assertThat(events.path("events").findValuesAsText("type")).contains("DECISION_REFUSED");
  }

  static JsonNode status(String runId) {
    try {
      return JSON.readTree(send("GET", "/api/runs/" + runId, "ferry-dev-viewer", null, null).body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse<String> send(String method, String path, String token, String body, String type) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + path)).header("Authorization", "Bearer " + token);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}

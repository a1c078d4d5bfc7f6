package dev.ferry.api.visibility;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the real Temporal server: a run waiting at its cutover gate is found by the query the
 * README gives, through the {@code temporal} CLI as an operator would type it, and through
 * {@code GET /api/runs?phase=}.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RunPhaseVisibilityTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String CUTOVER_QUERY = "FerryApp=\"shop\" AND FerryPhase=\"awaiting approval: cutover\"";

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void aRunAtItsCutoverGate_isListedByTheTemporalCli_andByThePhaseFilter() throws Exception {
    String runId;
    try (Response started = request("/api/runs", "ferry-dev-operator").post(Entity.entity(Runbooks.SHOP_MULTI_PHASE_YAML, "application/yaml"))) {
      assertThat(started.getStatus()).isEqualTo(201);
      runId = started.readEntity(JsonNode.class).path("runId").asText();
    }
    awaitPhase(runId, "awaiting approval: start");
    assertThat(temporalWorkflowList(CUTOVER_QUERY)).doesNotContain(runId);
    try (Response approved = request("/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver").post(Entity.json("{}"))) {
      assertThat(approved.getStatus()).isEqualTo(200);
    }
    awaitPhase(runId, "awaiting approval: cutover");

    // Visibility catches up with the run a moment after it moves: wait for it, not for a time.
    String listed = Eventually.get("the CLI to list the run", () -> temporalWorkflowList(CUTOVER_QUERY), out -> out.contains(runId));
    assertThat(listed).contains("MigrationWorkflow");
    assertThat(temporalWorkflowList("FerryApp=\"shop\" AND FerryPhase=\"awaiting approval: start\"")).doesNotContain(runId);
    assertThat(temporalWorkflowList("FerryKind=\"migration\" AND FerryStrategy=\"multi-phase\"")).contains(runId);

    JsonNode page = list("/api/runs?app=shop&phase=awaiting%20approval:%20cutover");
    assertThat(page.path("runs").findValuesAsText("runId")).containsExactly(runId);
    assertThat(list("/api/runs?phase=awaiting%20approval:%20start").path("runs")).isEmpty();
    assertThat(list("/api/runs?kind=rehearsal&phase=awaiting%20approval:%20cutover").path("runs")).isEmpty();
  }

  @Test
  void aPhaseThatIsNotOne_isRefusedNamingTheField() {
    try (Response r = request("/api/runs?phase=" + "x%22%20OR%20true", "ferry-dev-viewer").get()) {
      assertThat(r.getStatus()).isEqualTo(400);
      assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactly("phase");
    }
  }

  private static void awaitPhase(String runId, String phase) {
    Eventually.get(
        runId + " in phase " + phase,
        () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
        s -> phase.equals(s.path("phase").asText()));
  }

  private static JsonNode list(String path) {
    try (Response r = request(path, "ferry-dev-viewer").get()) {
      assertThat(r.getStatus()).isEqualTo(200);
      return r.readEntity(JsonNode.class);
    }
  }

  /** {@code temporal workflow list --query Q} against the test's server, as text. */
  private static String temporalWorkflowList(String query) {
    List<String> command = new ArrayList<>(List.of(TemporalDevServer.binary().toString(), "workflow", "list"));
    command.addAll(List.of("--address", TEMPORAL.address(), "--namespace", "default", "--query", query, "--output", "json"));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Invocation.Builder request(String path, String token) {
    return APP.client().target("http://127.0.0.1:" + APP.getLocalPort() + path).request().header("Authorization", "Bearer " + token);
  }
}

package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.temporal.RunGateway;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.testing.ApiResources;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.model.ApprovalKeys;
import java.util.Map;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What the API says when no worker runs, or Temporal itself is down: 503, promptly. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RunsResourceUnavailableTest {
  /** A Temporal server whose task queue nobody polls. */
  static final TestWorkflowEnvironment NO_WORKER = startTemporal();
  static final WorkflowServiceStubs DOWN =
      WorkflowServiceStubs.newServiceStubs(
          WorkflowServiceStubsOptions.newBuilder()
              .setTarget("127.0.0.1:" + closedPort())
              .setRpcTimeout(Duration.ofSeconds(2))
              .build());

  static final TestLedger LEDGER = TestLedger.create();
  static final ResourceExtension WITHOUT_WORKER =
      resource(new RunGateway(NO_WORKER.getWorkflowClient(), "nobody-polls-this", Duration.ofSeconds(1)));
  static final ResourceExtension WITHOUT_TEMPORAL =
      resource(new RunGateway(WorkflowClient.newInstance(DOWN), "ferry", Duration.ofSeconds(1)));

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    env.start();
    return env;
  }

  /** A ledger nobody listens for. */
  static final ResourceExtension WITHOUT_LEDGER =
      ApiResources.runs(
          new RunGateway(NO_WORKER.getWorkflowClient(), "nobody-polls-this", Duration.ofSeconds(1)),
          new RunLedger(LedgerDatabase.of("postgres://ferry:pw@127.0.0.1:" + closedPort() + "/ferry", Map.of()), new ObjectMapper()),
          ApprovalKeys.none());

  static ResourceExtension resource(RunGateway gateway) {
    return ApiResources.runs(gateway, LEDGER);
  }

  @AfterAll
  static void stop() {
    NO_WORKER.close();
    DOWN.shutdownNow();
    LEDGER.close();
  }

  @Test
  void noWorker_statusAndDecisionsAnswer503InsteadOfHanging() {
    Response started =
        WITHOUT_WORKER.target("/api/runs").request().header("Authorization", TestUsers.bearer("olivia"))
            .post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    assertThat(started.getStatus()).isEqualTo(201);
    String runId = started.readEntity(JsonNode.class).path("runId").asText();

    Response status =
        WITHOUT_WORKER.target("/api/runs/" + runId).request().header("Authorization", TestUsers.bearer("val")).get();
    Response approve =
        WITHOUT_WORKER.target("/api/runs/" + runId + "/gates/start/approve").request()
            .header("Authorization", TestUsers.bearer("arjun"))
            .post(Entity.json("{}"));

    assertThat(status.getStatus()).isEqualTo(503);
    assertThat(status.readEntity(JsonNode.class).path("message").asText()).contains("no worker answered");
    assertThat(approve.getStatus()).isEqualTo(503);
    assertThat(approve.readEntity(JsonNode.class).path("message").asText())
        .contains("no Ferry worker answered within 1s", "may still take effect");
  }

  @Test
  void temporalDown_everyCallAnswers503_andTheLedgerKeepsNothing() {
    long[] before = LEDGER.counts();
    Response start =
        WITHOUT_TEMPORAL.target("/api/runs").request().header("Authorization", TestUsers.bearer("olivia"))
            .post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    Response status =
        WITHOUT_TEMPORAL.target("/api/runs/migration-shop-00000000").request()
            .header("Authorization", TestUsers.bearer("val"))
            .get();

    assertThat(start.getStatus()).isEqualTo(503);
    assertThat(start.readEntity(JsonNode.class).path("message").asText()).startsWith("Temporal is not reachable");
    assertThat(status.getStatus()).isEqualTo(503);
    assertThat(LEDGER.counts()).containsExactly(before);
  }

  @Test
  void ledgerDown_startAndListAnswer503_andNothingStarts() {
    Response start =
        WITHOUT_LEDGER.target("/api/runs").request().header("Authorization", TestUsers.bearer("olivia"))
            .post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    Response list = WITHOUT_LEDGER.target("/api/runs").request().header("Authorization", TestUsers.bearer("val")).get();

    assertThat(start.getStatus()).isEqualTo(503);
    assertThat(start.readEntity(JsonNode.class).path("message").asText()).isEqualTo("the run ledger is not reachable; try again");
    assertThat(list.getStatus()).isEqualTo(503);
  }

  private static int closedPort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}

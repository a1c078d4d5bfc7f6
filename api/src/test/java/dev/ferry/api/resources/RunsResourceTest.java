package dev.ferry.api.resources;

import dev.ferry.options.ActivityCatalog;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.testing.ApiResources;
import dev.ferry.api.testing.CountingStarts;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.Runbooks;
import dev.ferry.workflow.MigrationWorkflow;
import dev.ferry.workflow.MigrationWorkflowImpl;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestEnvironmentOptions;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The runs resource over HTTP, with its real auth filters and error mappers, against Temporal's
 * in-memory test server running the real workflow with fake databases.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RunsResourceTest {
  static final CountingStarts STARTS = new CountingStarts();
  static final FakeDatabases DATABASES = new FakeDatabases();
  static final TestWorkflowEnvironment TEMPORAL = startTemporal();
  static final TestLedger LEDGER = TestLedger.create();

  static final ResourceExtension API = resource();

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder()
                .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setInterceptors(STARTS).build())
                .build());
    TestSearchAttributes.registerIn(env);
    Worker worker = env.newWorker("ferry");
    worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
    worker.registerActivitiesImplementations(DATABASES);
    env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(DATABASES);
    env.newWorker(ActivityCatalog.loopQueue("ferry")).registerActivitiesImplementations(DATABASES);
    env.start();
    return env;
  }

  static ResourceExtension resource() {
    return ApiResources.runs(new RunGateway(TEMPORAL.getWorkflowClient(), "ferry"), LEDGER);
  }

  @AfterAll
  static void stopTemporal() {
    TEMPORAL.close();
    LEDGER.close();
  }

  @Test
  void operatorStartsARun_201WithItsIdAndStatusUrl() {
    Response response = startRun("olivia", Runbooks.SHOP_YAML);

    assertThat(response.getStatus()).isEqualTo(201);
    JsonNode body = response.readEntity(JsonNode.class);
    assertThat(body.path("runId").asText()).matches("migration-shop-[0-9a-f]{8}");
    assertThat(body.path("statusUrl").asText()).isEqualTo("/api/runs/" + body.path("runId").asText());
    assertThat(response.getLocation().getPath()).isEqualTo("/api/runs/" + body.path("runId").asText());
  }

  @Test
  void runbookAsJson_isAcceptedToo() {
    String json =
        "{\"app\":\"shop\",\"strategy\":\"single-phase\",\"source\":{\"databaseUrl\":\"env:A\"},\"target\":{\"databaseUrl\":\"env:B\"}}";

    Response response =
        API.target("/api/runs").request().header("Authorization", TestUsers.bearer("olivia")).post(Entity.json(json));

    assertThat(response.getStatus()).isEqualTo(201);
  }

  @Test
  void statusOfAWaitingRun_showsStepsPendingGateAndPreflight() {
    String runId = startedRunAtGate();

    JsonNode status = get("val", "/api/runs/" + runId);

    assertThat(status.path("state").asText()).isEqualTo("AWAITING_APPROVAL");
    assertThat(status.path("startedBy").asText()).isEqualTo("olivia");
    assertThat(status.path("pendingGate").path("gate").asText()).isEqualTo("start");
    assertThat(status.path("pendingGate").path("approvers")).hasSize(2);
    assertThat(status.path("pendingGate").path("deadline").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(status.path("steps")).hasSize(14);
    assertThat(status.path("pendingGate").path("evidence").get(0).asText()).startsWith("plan: preflight → gate:start");
    assertThat(status.path("steps").get(0).path("name").asText()).isEqualTo("preflight");
    assertThat(status.path("steps").get(0).path("state").asText()).isEqualTo("DONE");
    assertThat(status.path("steps").get(0).path("startedAt").asText()).isNotEmpty();
    assertThat(status.path("preflight").path("source").path("serverVersion").asText()).isEqualTo("15.20");
    assertThat(status.path("preflight").path("audit").path("logicalReplication").path("reason").asText())
        .isEqualTo("wal_level is replica, not logical");
    assertThat(status.path("temporalStatus").asText()).isEqualTo("RUNNING");
  }

  @Test
  void approverApproves_runSucceedsAndStatusListsVerifiedTables() {
    String runId = startedRunAtGate();

    Response response = decide("arjun", runId, "start", "approve", "{\"comment\":\"preflight is clean\"}");

    assertThat(response.getStatus()).isEqualTo(200);
    JsonNode decision = response.readEntity(JsonNode.class);
    assertThat(decision.path("decidedBy").asText()).isEqualTo("arjun");
    assertThat(decision.path("verdict").asText()).isEqualTo("APPROVE");
    assertThat(decision.path("comment").asText()).isEqualTo("preflight is clean");
    JsonNode atDecommission =
        Eventually.get("the decommission gate", () -> get("val", "/api/runs/" + runId),
            s -> "decommission".equals(s.path("pendingGate").path("gate").asText()));
    assertThat(atDecommission.path("pendingGate").path("evidence").get(0).asText()).startsWith("last verification:");
    // A digest of evidence the gate no longer shows is refused: the caller looked at something else.
    Response stale = decide("arjun", runId, "decommission", "approve", "{\"evidenceDigest\":\"" + "0".repeat(64) + "\"}");
    assertThat(stale.getStatus()).isEqualTo(409);
    assertThat(stale.readEntity(JsonNode.class).path("message").asText()).contains("changed since it was shown");
    String digest = atDecommission.path("pendingGate").path("evidenceDigest").asText();
    assertThat(decide("arjun", runId, "decommission", "approve", "{\"evidenceDigest\":\"" + digest + "\"}").getStatus())
        .isEqualTo(200);
    WorkflowStub.fromTyped(TEMPORAL.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, runId))
        .getResult(Object.class);
    JsonNode status = get("val", "/api/runs/" + runId);
    assertThat(status.path("state").asText()).isEqualTo("SUCCEEDED");
    assertThat(status.path("verification").path("passed").asBoolean()).isTrue();
    assertThat(status.path("verification").path("tables")).hasSize(2);
    assertThat(status.path("decisions").get(0).path("decidedBy").asText()).isEqualTo("arjun");
    assertThat(status.path("temporalStatus").asText()).isEqualTo("COMPLETED");
  }

  @Test
  void anApproverFieldInTheBody_isRefused_theCallerAlwaysDecides() {
    String runId = startedRunAtGate();

    Response response = decide("arjun", runId, "start", "approve", "{\"comment\":\"ok\",\"approver\":\"beatriz\"}");

    // Unknown fields are refused outright rather than silently trusted.
    assertThat(response.getStatus()).isEqualTo(400);
    assertThat(get("val", "/api/runs/" + runId).path("pendingGate").path("gate").asText()).isEqualTo("start");
  }

  @Test
  void rejectWithComment_endsTheRunRejected() {
    String runId = startedRunAtGate();

    Response response = decide("beatriz", runId, "start", "reject", "{\"comment\":\"not during the sale\"}");

    assertThat(response.getStatus()).isEqualTo(200);
    WorkflowStub.fromTyped(TEMPORAL.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, runId))
        .getResult(Object.class);
    assertThat(get("val", "/api/runs/" + runId).path("state").asText()).isEqualTo("REJECTED");
  }

  @Test
  void rejectWithoutComment_422AndTheGateStaysOpen() {
    String runId = startedRunAtGate();

    Response response = decide("arjun", runId, "start", "reject", "{}");

    assertThat(response.getStatus()).isEqualTo(422);
    assertThat(response.readEntity(JsonNode.class).path("message").asText()).contains("must say why");
    assertThat(get("val", "/api/runs/" + runId).path("pendingGate").isObject()).isTrue();
  }

  @Test
  void theStarterCannotApproveTheirOwnRun_403() {
    Response started = startRun("sam", Runbooks.SHOP_YAML.replace("approvers: [arjun, beatriz]", "approvers: []"));
    String runId = started.readEntity(JsonNode.class).path("runId").asText();
    awaitGate(runId);

    Response response = decide("sam", runId, "start", "approve", "{}");

    assertThat(response.getStatus()).isEqualTo(403);
    assertThat(response.readEntity(JsonNode.class).path("message").asText())
        .isEqualTo("sam started this run and cannot decide its gates (four eyes)");
    assertThat(get("val", "/api/runs/" + runId).path("decisions")).isEmpty();
  }

  @Test
  void anApproverTheRunbookDoesNotList_403() {
    String runId = startedRunAtGate();

    Response response = decide("mallory", runId, "start", "approve", "{}");

    assertThat(response.getStatus()).isEqualTo(403);
    assertThat(response.readEntity(JsonNode.class).path("message").asText()).contains("not an approver");
  }

  @Test
  void aGateThatIsNotPending_409() {
    String runId = startedRunAtGate();

    assertThat(decide("arjun", runId, "cutover", "approve", "{}").getStatus()).isEqualTo(409);
  }

  @Test
  void aDecisionOnAFinishedRun_409() {
    String runId = startedRunAtGate();
    decide("beatriz", runId, "start", "reject", "{\"comment\":\"no\"}");
    WorkflowStub.fromTyped(TEMPORAL.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, runId))
        .getResult(Object.class);

    Response response = decide("arjun", runId, "start", "approve", "{}");

    assertThat(response.getStatus()).isEqualTo(409);
    assertThat(response.readEntity(JsonNode.class).path("message").asText()).contains("has ended");
  }

  @Test
  void unknownRun_404_andAScriptInThePath_isNotEchoed() {
    Response unknown = API.target("/api/runs/migration-shop-00000000").request().header("Authorization", TestUsers.bearer("val")).get();
    Response script =
        API.target("/api/runs/%3Cscript%3Ealert(1)%3C%2Fscript%3E").request().header("Authorization", TestUsers.bearer("val")).get();

    assertThat(unknown.getStatus()).isEqualTo(404);
    assertThat(unknown.readEntity(JsonNode.class).path("message").asText()).isEqualTo("no run migration-shop-00000000");
    assertThat(script.getStatus()).isEqualTo(404);
    assertThat(script.readEntity(String.class)).doesNotContain("<script>");
  }

  @Test
  void runbookMissingSourceAndTarget_422NamingBoth_andNothingStarts() {
    int before = STARTS.count();

    Response response = startRun("olivia", "app: shop\nstrategy: single-phase\n");

    assertThat(response.getStatus()).isEqualTo(422);
    JsonNode body = response.readEntity(JsonNode.class);
    assertThat(body.path("errors").findValuesAsText("field")).containsExactly("source", "target");
    assertThat(STARTS.count()).isEqualTo(before);
  }

  @Test
  void textThatIsNotYaml_400_andNothingStarts() {
    int before = STARTS.count();

    Response response = startRun("olivia", "app: [shop\n");

    assertThat(response.getStatus()).isEqualTo(400);
    assertThat(response.readEntity(JsonNode.class).path("message").asText()).startsWith("runbook is not valid YAML");
    assertThat(STARTS.count()).isEqualTo(before);
  }

  @Test
  void hugeRunbook_413_andNothingStarts() {
    int before = STARTS.count();

    Response response = startRun("olivia", Runbooks.SHOP_YAML + "#" + "x".repeat(300_000) + "\n");

    assertThat(response.getStatus()).isEqualTo(413);
    assertThat(STARTS.count()).isEqualTo(before);
  }

  @Test
  void noToken_401_wrongToken_401_wrongRole_403_andNothingStarts() {
    int before = STARTS.count();

    Response none = API.target("/api/runs").request().post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    Response wrong =
        API.target("/api/runs").request().header("Authorization", "Bearer not-a-token").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    Response viewer = startRun("val", Runbooks.SHOP_YAML);
    Response approver = startRun("arjun", Runbooks.SHOP_YAML);

    assertThat(none.getStatus()).isEqualTo(401);
    assertThat(wrong.getStatus()).isEqualTo(401);
    assertThat(viewer.getStatus()).isEqualTo(403);
    assertThat(approver.getStatus()).isEqualTo(403);
    assertThat(STARTS.count()).isEqualTo(before);
  }

  @Test
  void anOperatorCannotApprove_403() {
    String runId = startedRunAtGate();

    assertThat(decide("olivia", runId, "start", "approve", "{}").getStatus()).isEqualTo(403);
    assertThat(decide("val", runId, "start", "approve", "{}").getStatus()).isEqualTo(403);
  }

  private static Response startRun(String user, String yaml) {
    return API.target("/api/runs")
        .request()
        .header("Authorization", TestUsers.bearer(user))
        .post(Entity.entity(yaml, "application/yaml"));
  }

  private static String startedRunAtGate() {
    Response response = startRun("olivia", Runbooks.SHOP_YAML);
    assertThat(response.getStatus()).isEqualTo(201);
    String runId = response.readEntity(JsonNode.class).path("runId").asText();
    awaitGate(runId);
    return runId;
  }

  private static void awaitGate(String runId) {
    Eventually.get(
        "run " + runId + " to reach its start gate",
        () -> get("val", "/api/runs/" + runId),
        s -> "AWAITING_APPROVAL".equals(s.path("state").asText()));
  }

  private static JsonNode get(String user, String path) {
    Response r = API.target(path).request().header("Authorization", TestUsers.bearer(user)).get();
    assertThat(r.getStatus()).as("GET %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }

  private static Response decide(String user, String runId, String gate, String verb, String json) {
    return API.target("/api/runs/" + runId + "/gates/" + gate + "/" + verb)
        .request()
        .header("Authorization", TestUsers.bearer(user))
        .post(Entity.json(json));
  }
}

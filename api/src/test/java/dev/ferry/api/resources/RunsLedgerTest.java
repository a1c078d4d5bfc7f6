package dev.ferry.api.resources;

import dev.ferry.options.ActivityCatalog;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.activities.ledger.LedgerVerificationDetails;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.testing.ApiResources;
import dev.ferry.api.testing.CountingStarts;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import dev.ferry.model.GateDecision;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.TableComparison;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the API keeps in the run ledger and serves from it: the list of runs, a run's audit
 * events, idempotent starts, cancellation, plans and validation, signed decisions, and every
 * comparison of a run's verification.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RunsLedgerTest {
  static final CountingStarts CLIENT = new CountingStarts();
  static final FakeDatabases DATABASES = new FakeDatabases();
  static final TestWorkflowEnvironment TEMPORAL = startTemporal();
  static final TestLedger LEDGER = TestLedger.create();
  static final byte[] SIGNING_KEY = "a-test-signing-key-of-32-bytes!!".getBytes(StandardCharsets.US_ASCII);

  static final ResourceExtension API =
      ApiResources.runs(new RunGateway(TEMPORAL.getWorkflowClient(), "ferry"), LEDGER);
  static final ResourceExtension SIGNING_API =
      ApiResources.runs(new RunGateway(TEMPORAL.getWorkflowClient(), "ferry"), LEDGER.ledger(), ApprovalKeys.of(List.of(SIGNING_KEY)));

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder()
                .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setInterceptors(CLIENT).build())
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

  @AfterAll
  static void stop() {
    TEMPORAL.close();
    LEDGER.close();
  }

  @Test
  void aStartedRun_isListedNewestFirst_withItsAuthenticatedStarter() {
    String first = startedRun(runbook("list-a"));
    String second = startedRun(runbook("list-a"));

    JsonNode page = get("val", "/api/runs?app=list-a");

    assertThat(page.path("runs").findValuesAsText("runId")).containsExactly(second, first);
    JsonNode run = page.path("runs").get(0);
    assertThat(run.path("startedBy").asText()).isEqualTo("olivia");
    assertThat(run.path("startedVia").asText()).isEqualTo("api");
    assertThat(run.path("kind").asText()).isEqualTo("migration");
    assertThat(run.path("statusUrl").asText()).isEqualTo("/api/runs/" + second);
  }

  @Test
  void runs_arePaged_andFilteredByStateAppAndKind() {
    for (int i = 0; i < 3; i++) {
      startedRun(runbook("paged"));
    }

    JsonNode first = get("val", "/api/runs?app=paged&limit=2");
    JsonNode rest = get("val", first.path("next").asText());

    assertThat(first.path("runs")).hasSize(2);
    assertThat(first.path("next").asText()).contains("offset=2", "app=paged");
    assertThat(rest.path("runs")).hasSize(1);
    assertThat(rest.path("next").isNull()).isTrue();
    assertThat(get("val", "/api/runs?app=paged&kind=rehearsal").path("runs")).isEmpty();
    assertThat(get("val", "/api/runs?app=paged&state=SUCCEEDED").path("runs")).isEmpty();
  }

  @Test
  void aBadQuery_400NamingEveryParameter() {
    Response r = request("val", "/api/runs?state=DROP%20TABLE&app=Shop!&kind=x&limit=100000&offset=-1").get();

    assertThat(r.getStatus()).isEqualTo(400);
    assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactly("state", "app", "kind", "limit", "offset");
  }

  @Test
  void aRunsEvents_startWithTheRequest_andShowARefusedDecisionAndTheCancellation() {
    String runId = startedRunAtGate(runbook("events"));
    assertThat(decide("mallory", runId, "approve", "{}").getStatus()).isEqualTo(403);

    Response cancelled = request("olivia", "/api/runs/" + runId + "/cancel").post(Entity.json("{\"reason\":\"wrong window\"}"));

    assertThat(cancelled.getStatus()).isEqualTo(202);
    assertThat(cancelled.readEntity(JsonNode.class).path("requestedBy").asText()).isEqualTo("olivia");
    WorkflowStub stub = WorkflowStub.fromTyped(TEMPORAL.getWorkflowClient().newWorkflowStub(MigrationWorkflow.class, runId));
    Eventually.get("the run to end", () -> get("val", "/api/runs/" + runId), s -> "CANCELLED".equals(s.path("state").asText()));
    JsonNode events = get("val", "/api/runs/" + runId + "/events").path("events");
    assertThat(events.findValuesAsText("type")).containsExactly("REQUESTED", "DECISION_REFUSED", "CANCEL_REQUESTED");
    assertThat(events.get(1).path("actor").asText()).isEqualTo("mallory");
    assertThat(events.get(2).path("detail").asText()).isEqualTo("wrong window");
    assertThat(events.findValuesAsText("source")).containsOnly("api");
    // What the API saw of the run is in the list too.
    assertThat(get("val", "/api/runs?app=events").path("runs").get(0).path("state").asText()).isEqualTo("CANCELLED");
    assertThat(stub.describe().getStatus().name()).contains("CANCELED");
  }

  @Test
  void cancel_needsTheOperatorRole_aLiveRun_andAKnownOne() {
    String runId = startedRunAtGate(runbook("cancel"));

    assertThat(request("val", "/api/runs/" + runId + "/cancel").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("arjun", "/api/runs/" + runId + "/cancel").post(Entity.json("{}")).getStatus()).isEqualTo(403);
    assertThat(request("olivia", "/api/runs/migration-cancel-00000000/cancel").post(Entity.json("{}")).getStatus()).isEqualTo(404);
    assertThat(decide("arjun", runId, "reject", "{\"comment\":\"no\"}").getStatus()).isEqualTo(200);
    Eventually.get("the run to end", () -> get("val", "/api/runs/" + runId), s -> "REJECTED".equals(s.path("state").asText()));
    assertThat(request("olivia", "/api/runs/" + runId + "/cancel").post(Entity.json("{}")).getStatus()).isEqualTo(409);
  }

  @Test
  void theSameIdempotencyKey_returnsTheSameRun_andStartsOnlyOne() {
    String key = UUID.randomUUID().toString();
    int before = CLIENT.count();

    Response first = start("olivia", runbook("idem"), key);
    Response again = start("olivia", runbook("idem"), key);

    assertThat(first.getStatus()).isEqualTo(201);
    assertThat(again.getStatus()).isEqualTo(200);
    assertThat(again.getHeaderString("Idempotent-Replayed")).isEqualTo("true");
    String runId = first.readEntity(JsonNode.class).path("runId").asText();
    assertThat(again.readEntity(JsonNode.class).path("runId").asText()).isEqualTo(runId);
    assertThat(CLIENT.count()).isEqualTo(before + 1);
    assertThat(get("val", "/api/runs?app=idem").path("runs")).hasSize(1);
    // The key belongs to its user: another operator's same key is another run.
    assertThat(start("sam", runbook("idem"), key).getStatus()).isEqualTo(201);
  }

  @Test
  void anIdempotencyKeyReusedForAnotherRunbook_422_andNothingMore() {
    String key = UUID.randomUUID().toString();
    assertThat(start("olivia", runbook("idem-b"), key).getStatus()).isEqualTo(201);
    long[] before = LEDGER.counts();
    int starts = CLIENT.count();

    Response other = start("olivia", runbook("idem-c"), key);

    assertThat(other.getStatus()).isEqualTo(422);
    assertThat(other.readEntity(JsonNode.class).path("message").asText()).contains("already used for another request");
    assertThat(LEDGER.counts()).containsExactly(before);
    assertThat(CLIENT.count()).isEqualTo(starts);
  }

  @Test
  void plan_listsTheStepsInOrder_withTheGateAndItsApprovers_andStartsNothing() {
    int starts = CLIENT.count();
    long[] before = LEDGER.counts();

    Response r = request("val", "/api/runbooks/plan").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));

    assertThat(r.getStatus()).isEqualTo(200);
    JsonNode plan = r.readEntity(JsonNode.class);
    assertThat(plan.path("app").asText()).isEqualTo("shop");
    // The streaming copy is the default: one copy step where the dump method has snapshot, restore and discard.
    assertThat(plan.path("steps").findValuesAsText("name")).startsWith("preflight", "gate:start").contains("copy").hasSize(14);
    JsonNode gate = plan.path("steps").get(1);
    assertThat(gate.path("gate").asBoolean()).isTrue();
    assertThat(gate.path("number").asInt()).isEqualTo(2);
    assertThat(gate.path("approvers").toString()).isEqualTo("[\"arjun\",\"beatriz\"]");
    assertThat(gate.path("reason").asText()).contains("1d", "then rejects");
    assertThat(CLIENT.count()).isEqualTo(starts);
    assertThat(LEDGER.counts()).containsExactly(before);
  }

  @Test
  void validate_aGoodRunbook200_aBadOne422WithEveryField() {
    Response good = request("olivia", "/api/runbooks/validate").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    Response bad =
        request("olivia", "/api/runbooks/validate")
            .post(Entity.entity("app: Shop\nstrategy: big-bang\nsource: {databaseUrl: postgres://u:hunter2@h/db}\ntarget: {databaseUrl: env:B}\nsnapshot: {jobs: -3}\n", "application/yaml"));

    assertThat(good.getStatus()).isEqualTo(200);
    assertThat(good.readEntity(JsonNode.class).path("valid").asBoolean()).isTrue();
    assertThat(bad.getStatus()).isEqualTo(422);
    String body = bad.readEntity(String.class);
    assertThat(body).contains("\"app\"", "\"strategy\"", "\"source.databaseUrl\"", "\"snapshot.jobs\"").doesNotContain("hunter2");
  }

  @Test
  void aSigningApi_signsEveryDecisionItSends_forThatRunAndApprover() {
    String runId = startedRunAtGate(runbook("signed"));
    int before = CLIENT.updates().size();

    Response r =
        SIGNING_API.target("/api/runs/" + runId + "/gates/start/approve").request()
            .header("Authorization", TestUsers.bearer("arjun")).post(Entity.json("{\"comment\":\"ok\"}"));

    assertThat(r.getStatus()).isEqualTo(200);
    GateDecision sent = (GateDecision) CLIENT.updates().get(before);
    assertThat(sent.approver()).isEqualTo("arjun");
    assertThat(sent.issuedAt()).isNotNull();
    assertThat(ApprovalSignature.verify(List.of(SIGNING_KEY), runId, sent, null)).isTrue();
    assertThat(ApprovalSignature.verify(List.of(SIGNING_KEY), "migration-other-00000000", sent, null)).isFalse();
  }

  static String runbook(String app) {
    return Runbooks.SHOP_YAML.replace("app: shop", "app: " + app);
  }

  static String startedRun(String yaml) {
    Response r = start("olivia", yaml, null);
    assertThat(r.getStatus()).isEqualTo(201);
    return r.readEntity(JsonNode.class).path("runId").asText();
  }

  static String startedRunAtGate(String yaml) {
    String runId = startedRun(yaml);
    Eventually.get("the start gate", () -> get("val", "/api/runs/" + runId), s -> "AWAITING_APPROVAL".equals(s.path("state").asText()));
    return runId;
  }

  static Response start(String user, String yaml, String key) {
    var b = API.target("/api/runs").request().header("Authorization", TestUsers.bearer(user));
    if (key != null) {
      b = b.header("Idempotency-Key", key);
    }
    return b.post(Entity.entity(yaml, "application/yaml"));
  }

  @Test
  void aVerificationOfSixtyTables_isServedAPageAtATime_andItsDifferingTablesAlone() {
    // What the verify activity records of a run whose status names at most 50 tables.
    String runId = "migration-detail-" + UUID.randomUUID().toString().substring(0, 8);
    LedgerVerificationDetails details = new LedgerVerificationDetails(LEDGER.database());
    VerificationDetails.Verification verification = new VerificationDetails.Verification(runId, "12");
    details.begin(verification);
    List<TableComparison> tables = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String name = String.format("tenant_%04d.tasks", i + 1);
      tables.add(i % 20 == 3
          ? new TableComparison(name, 3, 2, "primary key range", 1, 1, List.of(new ChunkMismatch("id 1..3", 3, 2)), false)
          : new TableComparison(name, 3, 3, "primary key range", 1, 0, List.of(), true));
    }
    details.tables(verification, tables.subList(0, 40));
    // A retry records what it compared again: nothing twice.
    details.tables(verification, tables.subList(30, 60));
    details.finish(verification, 3);

    JsonNode first = get("val", "/api/runs/" + runId + "/verification?limit=25");
    JsonNode second = get("val", first.path("next").asText());
    JsonNode third = get("val", second.path("next").asText());
    JsonNode differing = get("val", "/api/runs/" + runId + "/verification?differing=true");

    assertThat(first.path("verification").asText()).isEqualTo("12");
    assertThat(first.path("total").asLong()).isEqualTo(60);
    assertThat(first.path("differing").asLong()).isEqualTo(3);
    assertThat(first.path("mismatches").asInt()).isEqualTo(3);
    assertThat(first.path("objects")).hasSize(25);
    assertThat(first.path("objects").get(0).path("name").asText()).isEqualTo("tenant_0001.tasks");
    assertThat(second.path("objects").get(0).path("name").asText()).isEqualTo("tenant_0026.tasks");
    assertThat(third.path("objects")).hasSize(10);
    assertThat(third.path("next").isNull()).isTrue();
    assertThat(differing.path("objects").findValuesAsText("name"))
        .containsExactly("tenant_0004.tasks", "tenant_0024.tasks", "tenant_0044.tasks");
    assertThat(differing.path("objects").get(0).path("detail").path("mismatchedChunks").get(0).path("range").asText())
        .isEqualTo("id 1..3");
    assertThat(get("val", "/api/runs/" + runId + "/verification?kind=sequence").path("total").asLong()).isZero();
  }

  @Test
  void theVerificationDetail_ofARunWithoutOne_404_andABadQuery_400NamingEveryParameter() {
    assertThat(request("val", "/api/runs/migration-none-00000000/verification").get().getStatus()).isEqualTo(404);

    Response r = request("val", "/api/runs/migration-none-00000000/verification?kind=rows&differing=maybe&limit=5000").get();

    assertThat(r.getStatus()).isEqualTo(400);
    assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactly("kind", "differing", "limit");
  }

  static Response decide(String user, String runId, String verb, String json) {
    return request(user, "/api/runs/" + runId + "/gates/start/" + verb).post(Entity.json(json));
  }

  /** A path with its query string, as the API's own links give it. */
  static jakarta.ws.rs.client.Invocation.Builder request(String user, String path) {
    return API.client().target(API.target("/").getUri().resolve(path.substring(1))).request()
        .header("Authorization", TestUsers.bearer(user));
  }

  static JsonNode get(String user, String path) {
    Response r = request(user, path).get();
    assertThat(r.getStatus()).as("GET %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }
}

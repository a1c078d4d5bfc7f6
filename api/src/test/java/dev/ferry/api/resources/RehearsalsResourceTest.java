package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.activities.rehearsal.RehearsalLedgerActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalReportStore;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.temporal.RehearsalStarter;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalReport.PhaseTiming;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeScratchDatabases;
import dev.ferry.testing.Runbooks;
import dev.ferry.workflow.RehearsalWorkflow;
import dev.ferry.workflow.RehearsalWorkflowImpl;
import dev.ferry.workflow.Tuning;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowStub;
import dev.ferry.testing.TestSearchAttributes;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /api/rehearsals}: reports and their trend from a real ledger, and a rehearsal started
 * through the API running the real workflow against fake databases.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RehearsalsResourceTest {
  static final TestLedger LEDGER = TestLedger.create();
  static final RehearsalReportStore STORE = new RehearsalReportStore(LEDGER.database());
  static final FakeScratchDatabases SCRATCH = new FakeScratchDatabases();
  static final TestWorkflowEnvironment TEMPORAL = startTemporal();

  static final ResourceExtension API = api();

  static TestWorkflowEnvironment startTemporal() {
    TestWorkflowEnvironment env = TestSearchAttributes.registerIn(TestWorkflowEnvironment.newInstance());
    FakeDatabases databases = new FakeDatabases();
    Worker worker = env.newWorker("ferry");
    worker.registerWorkflowImplementationFactory(
        RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(new Tuning(Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofSeconds(30))));
    worker.registerActivitiesImplementations(databases, new RehearsalLedgerActivitiesImpl(LEDGER.database()), SCRATCH);
    env.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
    env.start();
    return env;
  }

  static ResourceExtension api() {
    RunbookReader reader = RunbookReader.fieldsOnly();
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(FerryApplication.configure(Jackson.newObjectMapper()))
            .addResource(new RehearsalsResource(new RehearsalStarter(TEMPORAL.getWorkflowClient(), "ferry"), LEDGER.ledger(), STORE, reader));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  @AfterAll
  static void stop() {
    TEMPORAL.close();
    LEDGER.close();
  }

  static RehearsalReport report(String id, String app, int minute, boolean ok, Long downtimeSeconds, String skipped) {
    Instant started = Instant.parse("2026-11-20T02:00:00Z").plus(Duration.ofMinutes(minute));
    return new RehearsalReport(
        id, app, "single-phase", started, started.plusSeconds(90), ok,
        List.of(
            new PhaseTiming("snapshot", ok ? PhaseTiming.SUCCEEDED : PhaseTiming.FAILED, Duration.ofMillis(1500), "2 tables"),
            new PhaseTiming("drop-scratch", PhaseTiming.SUCCEEDED, Duration.ofMillis(40), "dropped")),
        1_000_000, 25_000, ok ? "MATCH: 2 tables" : null,
        downtimeSeconds == null ? null : Duration.ofSeconds(downtimeSeconds),
        ok || skipped != null ? List.of() : List.of("restore: out of disk"),
        downtimeSeconds == null ? null : "single-phase: freeze 0.1 s (measured) + …",
        skipped);
  }

  static Invocation.Builder request(String user, String path) {
    // Resolved as a URI, so that a query string stays a query string.
    Invocation.Builder b = API.client().target(API.target("/").getUri().resolve(path.substring(1))).request();
    return user == null ? b : b.header("Authorization", TestUsers.bearer(user));
  }

  static JsonNode get(String user, String path) {
    Response r = request(user, path).get();
    assertThat(r.getStatus()).as("GET %s", path).isEqualTo(200);
    return r.readEntity(JsonNode.class);
  }

  @Test
  void theList_isNewestFirst_withTheTrendOfThoseListed() throws Exception {
    STORE.record(report("rehearsal-trend-a-00000001", "trend-a", 1, true, 10L, null));
    STORE.record(report("rehearsal-trend-a-00000002", "trend-a", 2, true, 40L, null));
    STORE.record(report("rehearsal-trend-a-00000003", "trend-a", 3, false, null, null));
    STORE.record(report("rehearsal-trend-a-00000004", "trend-a", 4, true, 20L, null));
    STORE.record(report("rehearsal-trend-a-00000005", "trend-a", 5, false, null, "migration-trend-a-1 is RUNNING"));
    STORE.record(report("rehearsal-trend-b-00000001", "trend-b", 6, true, 500L, null));

    JsonNode list = get("val", "/api/rehearsals?app=trend-a");

    assertThat(list.path("rehearsals").findValuesAsText("rehearsalId"))
        .containsExactly(
            "rehearsal-trend-a-00000005", "rehearsal-trend-a-00000004", "rehearsal-trend-a-00000003",
            "rehearsal-trend-a-00000002", "rehearsal-trend-a-00000001");
    JsonNode trend = list.path("trend");
    assertThat(trend.path("considered").asInt()).isEqualTo(4);
    assertThat(trend.path("succeeded").asInt()).isEqualTo(3);
    assertThat(trend.path("successRate").asDouble()).isEqualTo(0.75);
    assertThat(trend.path("medianDowntimeMillis").asLong()).isEqualTo(20_000);
    assertThat(trend.path("medianDowntime").asText()).isEqualTo("20.0 s");
    assertThat(trend.path("worstDowntimeMillis").asLong()).isEqualTo(40_000);
    assertThat(list.path("rehearsals").get(0).path("outcome").asText()).isEqualTo("skipped");
    assertThat(list.path("rehearsals").get(2).path("outcome").asText()).isEqualTo("failed");

    JsonNode two = get("arjun", "/api/rehearsals?app=trend-a&limit=2");
    assertThat(two.path("rehearsals")).hasSize(2);
    assertThat(two.path("trend").path("considered").asInt()).isEqualTo(1);
  }

  @Test
  void oneReport_showsEveryPhaseWithItsDuration_andTheEstimate() throws Exception {
    STORE.record(report("rehearsal-one-00000001", "one", 1, true, 754L, null));

    JsonNode r = get("val", "/api/rehearsals/rehearsal-one-00000001");

    assertThat(r.path("outcome").asText()).isEqualTo("succeeded");
    assertThat(r.path("phases").findValuesAsText("phase")).containsExactly("snapshot", "drop-scratch");
    assertThat(r.path("phases").get(0).path("durationMillis").asLong()).isEqualTo(1500);
    assertThat(r.path("estimatedDowntimeMillis").asLong()).isEqualTo(754_000);
    assertThat(r.path("estimatedDowntime").asText()).isEqualTo("12 min 34 s");
    assertThat(r.path("estimateBasis").asText()).startsWith("single-phase");
    assertThat(r.path("durationMillis").asLong()).isEqualTo(90_000);
    assertThat(r.path("statusUrl").asText()).isEqualTo("/api/runs/rehearsal-one-00000001");
  }

  @Test
  void anUnknownReport_is404_andABadIdToo() {
    assertThat(request("val", "/api/rehearsals/rehearsal-none-00000000").get().getStatus()).isEqualTo(404);
    assertThat(request("val", "/api/rehearsals/..%2F..%2Fetc").get().getStatus()).isEqualTo(404);
  }

  @Test
  void badQueries_are400_namingEveryField() {
    Response r = request("val", "/api/rehearsals?app=Not_An_App&limit=0").get();

    assertThat(r.getStatus()).isEqualTo(400);
    assertThat(r.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactlyInAnyOrder("app", "limit");
  }

  @Test
  void roles_viewersRead_operatorsStart_othersAreRefused() {
    assertThat(request(null, "/api/rehearsals").get().getStatus()).isEqualTo(401);
    assertThat(request(null, "/api/rehearsals").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")).getStatus()).isEqualTo(401);
    assertThat(request("val", "/api/rehearsals").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")).getStatus()).isEqualTo(403);
    assertThat(request("arjun", "/api/rehearsals").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")).getStatus()).isEqualTo(403);
    assertThat(request("val", "/api/rehearsals").get().getStatus()).isEqualTo(200);
  }

  @Test
  void aBadStart_is4xxNamingTheField_andStartsNothing() {
    long[] before = LEDGER.counts();

    Response badFresh = request("olivia", "/api/rehearsals?fresh=maybe").post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"));
    assertThat(badFresh.getStatus()).isEqualTo(400);
    assertThat(badFresh.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).containsExactly("fresh");

    Response badRunbook =
        request("olivia", "/api/rehearsals").post(Entity.entity(Runbooks.SHOP_YAML.replace("strategy: single-phase", "strategy: sideways"), "application/yaml"));
    assertThat(badRunbook.getStatus()).isEqualTo(422);
    assertThat(badRunbook.readEntity(JsonNode.class).path("errors").findValuesAsText("field")).contains("strategy");

    assertThat(LEDGER.counts()).isEqualTo(before);
  }

  @Test
  void anOperatorStartsARehearsal_itsRunIsInTheLedger_andItsReportIsServedOnceItEnds() throws Exception {
    String yaml = Runbooks.SHOP_YAML.replace("app: shop", "app: started");
    Response r = request("olivia", "/api/rehearsals").header("Idempotency-Key", "rehearse-1").post(Entity.entity(yaml, "application/yaml"));

    assertThat(r.getStatus()).isEqualTo(201);
    JsonNode created = r.readEntity(JsonNode.class);
    String id = created.path("runId").asText();
    assertThat(id).matches("rehearsal-started-[0-9a-f]{8}");
    assertThat(created.path("reportUrl").asText()).isEqualTo("/api/rehearsals/" + id);
    assertThat(LEDGER.ledger().find(id)).hasValueSatisfying(run -> {
      assertThat(run.kind()).isEqualTo("rehearsal");
      assertThat(run.startedBy()).isEqualTo("olivia");
    });

    Response again = request("olivia", "/api/rehearsals").header("Idempotency-Key", "rehearse-1").post(Entity.entity(yaml, "application/yaml"));
    assertThat(again.getStatus()).isEqualTo(200);
    assertThat(again.readEntity(JsonNode.class).path("runId").asText()).isEqualTo(id);

    RehearsalReport result = TEMPORAL.getWorkflowClient().newUntypedWorkflowStub(id).getResult(RehearsalReport.class);
    assertThat(result.succeeded()).as("%s", result).isTrue();

    JsonNode report = get("val", "/api/rehearsals/" + id);
    assertThat(report.path("outcome").asText()).isEqualTo("succeeded");
    assertThat(report.path("phases").findValuesAsText("phase")).containsExactlyElementsOf(RehearsalWorkflowImplPhases.NAMES);
    assertThat(report.path("estimatedDowntimeMillis").isNumber()).isTrue();
    assertThat(SCRATCH.existing).isEmpty();
    assertThat(get("val", "/api/rehearsals?app=started").path("rehearsals").findValuesAsText("rehearsalId")).containsExactly(id);
  }

  /** The phases as the workflow names them (its list is package-private there). */
  static final class RehearsalWorkflowImplPhases {
    static final List<String> NAMES =
        List.of("overlap-check", "create-scratch", "preflight", "freeze-probe", "snapshot", "restore", "verify",
            "sync-sequences", "discard-snapshot", "drop-scratch");
  }
}

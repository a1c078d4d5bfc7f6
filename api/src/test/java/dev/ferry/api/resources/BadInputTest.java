package dev.ferry.api.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.testing.CountingStarts;
import dev.ferry.api.testing.TestLedger;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.testing.Runbooks;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input of every kind the issue lists: each gets a clear 4xx, and nothing starts in Temporal
 * and nothing is written to the ledger. The API checks env: references here, as the embedded
 * stack can (it shares the worker's environment); SHOP_SOURCE_URL is set, NOT_SET_ANYWHERE not.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class BadInputTest {
  static final CountingStarts STARTS = new CountingStarts();
  static final TestWorkflowEnvironment TEMPORAL =
      TestWorkflowEnvironment.newInstance(
          TestEnvironmentOptions.newBuilder()
              .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setInterceptors(STARTS).build())
              .build());
  static final TestLedger LEDGER = TestLedger.create();
  static final ResourceExtension API = api();

  static ResourceExtension api() {
    RunbookReader reader =
        new RunbookReader(true, Map.of("SHOP_SOURCE_URL", "postgres://x", "SHOP_TARGET_URL", "postgres://y"));
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(FerryApplication.configure(Jackson.newObjectMapper()))
            .addResource(
                new RunsResource(
                    new RunGateway(TEMPORAL.getWorkflowClient(), "ferry"), LEDGER.ledger(), reader, ApprovalKeys.none(), Clock.systemUTC()))
            .addResource(new RunbooksResource(reader));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  long[] ledgerBefore;
  int startsBefore;

  @BeforeEach
  void remember() {
    ledgerBefore = LEDGER.counts();
    startsBefore = STARTS.count();
  }

  @AfterEach
  void nothingStartedNothingWritten() {
    assertThat(STARTS.count()).as("workflows started").isEqualTo(startsBefore);
    assertThat(LEDGER.counts()).as("ledger rows {runs, events}").containsExactly(ledgerBefore);
  }

  @AfterAll
  static void stop() {
    TEMPORAL.close();
    LEDGER.close();
  }

  static final String SQL = "x'%3B%20DROP%20TABLE%20runs%3B--";
  static final String SCRIPT = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";

  static Stream<Arguments> badRequests() {
    String shop = Runbooks.SHOP_YAML;
    return Stream.of(
        bad("malformed JSON", "POST", "/api/runs", "application/json", "{\"app\": \"shop\", \"source\": ", 400, "not valid YAML"),
        bad("malformed YAML", "POST", "/api/runs", "application/yaml", "app: [shop\nstrategy: single-phase\n", 400, "not valid YAML"),
        bad("a field twice", "POST", "/api/runs", "application/yaml", "app: shop\napp: other\n", 400, "appears twice"),
        bad("a list, not a runbook", "POST", "/api/runs", "application/yaml", "- app: shop\n", 400, "top level"),
        bad("an empty body", "POST", "/api/runs", "application/yaml", "", 400, "empty"),
        bad("unknown fields", "POST", "/api/runs", "application/yaml", shop + "colour: blue\nsnapshot2: {}\n", 422, "colour"),
        bad("negative jobs", "POST", "/api/runs", "application/yaml", shop.replace("jobs: 2", "jobs: -1"), 422, "snapshot.jobs"),
        bad("absurd jobs", "POST", "/api/runs", "application/yaml", shop.replace("jobs: 2", "jobs: 99999999999999"), 422, "snapshot.jobs"),
        bad("fractional jobs", "POST", "/api/runs", "application/yaml", shop.replace("jobs: 2", "jobs: 2.5"), 422, "snapshot.jobs"),
        bad("an absurd gate timeout", "POST", "/api/runs", "application/yaml", shop.replace("timeout: 24h", "timeout: 999999999d"), 422, "gates.start.timeout"),
        bad("a password written in the runbook", "POST", "/api/runs", "application/yaml",
            shop.replace("env:SHOP_SOURCE_URL", "postgres://u:hunter2@h/db"), 422, "source.databaseUrl"),
        bad("an env: reference set nowhere", "POST", "/api/runs", "application/yaml",
            shop.replace("env:SHOP_TARGET_URL", "env:NOT_SET_ANYWHERE"), 422, "target.databaseUrl"),
        bad("plan with an unset reference", "POST", "/api/runbooks/plan", "application/yaml",
            shop.replace("env:SHOP_TARGET_URL", "env:NOT_SET_ANYWHERE"), 422, "env:NOT_SET_ANYWHERE is not set"),
        bad("Ferry's own ledger as the source", "POST", "/api/runs", "application/yaml",
            shop.replace("env:SHOP_SOURCE_URL", "env:FERRY_LEDGER_URL"), 422, "env:FERRY_LEDGER_URL names one of Ferry's own settings"),
        bad("the worker's AWS key as the target", "POST", "/api/runs", "application/yaml",
            shop.replace("env:SHOP_TARGET_URL", "env:AWS_SECRET_ACCESS_KEY"), 422, "target.databaseUrl"),
        bad("Temporal's API key as a webhook", "POST", "/api/runs", "application/yaml",
            shop + "notifications: {webhook: env:TEMPORAL_API_KEY}\n", 422, "notifications.webhook"),
        bad("plan with libpq's password", "POST", "/api/runbooks/plan", "application/yaml",
            shop.replace("env:SHOP_SOURCE_URL", "env:PGPASSWORD"), 422, "env:PGPASSWORD names one of Ferry's own settings"),
        bad("a huge runbook", "POST", "/api/runs", "application/yaml", shop + "#" + "x".repeat(300_000) + "\n", 413, "256 KiB"),
        bad("HTML instead of a runbook", "POST", "/api/runs", "text/html", shop, 415, null),
        bad("a rehearsal, not available yet", "POST", "/api/runs?kind=rehearsal", "application/yaml", shop, 422, "rehearsals"),
        bad("an unknown kind", "POST", "/api/runs?kind=bigbang", "application/yaml", shop, 400, "kind"),
        bad("SQL in the run id", "GET", "/api/runs/" + SQL, null, null, 404, "no such run"),
        bad("SQL in the events' run id", "GET", "/api/runs/" + SQL + "/events", null, null, 404, "no such run"),
        bad("SQL in the gate", "POST", "/api/runs/migration-shop-00000000/gates/" + SQL + "/approve", "application/json", "{}", 404, "no such gate"),
        bad("SQL to cancel", "POST", "/api/runs/1%20OR%201%3D1/cancel", "application/json", "{}", 404, "no such run"),
        bad("a script in the run id", "GET", "/api/runs/" + SCRIPT, null, null, 404, "no such run"),
        bad("a script in the app filter", "GET", "/api/runs?app=" + SCRIPT, null, null, 400, "app"),
        bad("SQL in the state filter", "GET", "/api/runs?state=" + SQL, null, null, 400, "state"),
        bad("an unknown field in a decision", "POST", "/api/runs/migration-shop-00000000/gates/start/approve", "application/json",
            "{\"comment\":\"ok\",\"approver\":\"someone-else\"}", 400, null),
        bad("a decision comment of 3000 characters", "POST", "/api/runs/migration-shop-00000000/gates/start/reject", "application/json",
            "{\"comment\":\"" + "x".repeat(3000) + "\"}", 422, null),
        bad("an unknown run to cancel", "POST", "/api/runs/migration-shop-00000000/cancel", "application/json", "{}", 404, "no run"));
  }

  static Arguments bad(String what, String method, String path, String type, String body, int status, String says) {
    return Arguments.of(what, method, path, type, body, status, says);
  }

  @ParameterizedTest(name = "{0} → {5}")
  @MethodSource("badRequests")
  void badInput_clear4xx_nothingStartedNothingWritten(
      String what, String method, String path, String type, String body, int status, String says) {
    Invocation.Builder request =
        API.client().target(API.target("/").getUri().resolve(path.substring(1))).request()
            .header("Authorization", TestUsers.bearer("sam"));
    Response response = method.equals("GET") ? request.get() : request.post(Entity.entity(body, type));

    assertThat(response.getStatus()).as(what).isEqualTo(status);
    String text = response.readEntity(String.class);
    if (says != null) {
      JsonNode json = parse(text);
      assertThat(json.path("code").asInt()).isEqualTo(status);
      assertThat(json.toString()).as(what).contains(says);
    }
    assertThat(text).doesNotContain("<script>", "hunter2", "DROP TABLE");
  }

  private static JsonNode parse(String text) {
    try {
      return Jackson.newObjectMapper().readTree(text);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }
}

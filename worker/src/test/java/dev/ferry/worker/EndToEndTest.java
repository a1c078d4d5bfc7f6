package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real migration through everything: HTTP to the API, the API to the real Temporal server
 * ({@code temporal server start-dev}), the server to the worker, the worker to pg_dump,
 * pg_restore and both PostgreSQL clusters, with the shipped dev config of the API.
 */
class EndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path workDir;
  static MigrationDatabases shop;
  /** A second pair for the multi-phase run, reached through SHOP_SYNC_SOURCE_URL / _TARGET_URL. */
  static MigrationDatabases synced;
  static InProcessStack stack;
  static String ledgerDatabase;

  @BeforeAll
  static void startStack() throws Exception {
    shop = MigrationDatabases.shop();
    synced = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(synced.source, ShopWriter.NOTES_DDL);
    System.setProperty("dw.server.applicationConnectors[0].port", "0");
    System.setProperty("dw.server.adminConnectors[0].port", "0");
    WorkerSettings settings =
        new WorkerSettings("unused:0", "default", "ferry", "ferry-host-e2e", workDir, 4);
    Map<String, String> environment = new HashMap<>(shop.environment());
    environment.put("SHOP_SYNC_SOURCE_URL", TestCluster.SOURCE.url(synced.source));
    environment.put("SHOP_SYNC_TARGET_URL", TestCluster.TARGET.url(synced.target));
    environment.put("SHOP_UNREACHABLE_URL", "postgres://ferry:pw@127.0.0.1:1/shop");
    // Set, and outside the worker's allow-list: another app's database.
    environment.put("OTHER_APP_DATABASE_URL", TestCluster.TARGET.url(synced.target));
    environment.put("FERRY_SECRET_REFS", SecretPolicy.DEFAULT + ",env:NO_SUCH_VARIABLE");
    // Pre-verification at full pace, as in the process tests: its default tenth of the clock, on a
    // machine busy with the rest of the build, can outlast the wait for the cutover gate.
    environment.put("FERRY_PREVERIFY_SHARE", "1");
    ledgerDatabase = TestCluster.uniqueDatabaseName("ferry_ledger_e2e");
    TestCluster.TARGET.createDatabase(ledgerDatabase);
    String ledger = TestCluster.TARGET.url(ledgerDatabase);
    environment.put("FERRY_LEDGER_URL", ledger);
    stack = InProcessStack.start(settings, environment, ledger, System.getProperty("ferry.apiConfig"));
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (stack != null) {
      stack.close();
    }
    shop.close();
    synced.close();
    TestCluster.TARGET.dropDatabase(ledgerDatabase);
  }

  @Test
  void approvedMigration_copiesTheShopAndVerifiesEveryTable_withoutASecretInHistory() throws Exception {
    String runbook =
        Files.readString(Path.of(System.getProperty("ferry.sampleShopSql")).resolveSibling("demo-runbook.yml"));

    HttpResponse<String> started = post("/api/runs", "ferry-dev-operator", runbook, "application/yaml");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String runId = JSON.readTree(started.body()).path("runId").asText();

    Eventually.get("the start gate", () -> status(runId), s -> "AWAITING_APPROVAL".equals(s.path("state").asText()));
    HttpResponse<String> approved =
        post("/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver", "{\"comment\":\"e2e\"}", "application/json");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    Eventually.get(
        "the decommission gate", () -> status(runId), s -> "decommission".equals(s.path("pendingGate").path("gate").asText()));
    HttpResponse<String> final_ =
        post("/api/runs/" + runId + "/gates/decommission/approve", "ferry-dev-approver", "{\"comment\":\"e2e\"}", "application/json");
    assertThat(final_.statusCode()).as(final_.body()).isEqualTo(200);

    JsonNode done =
        Eventually.get(
            "the run to end",
            () -> status(runId),
            s -> s.path("state").asText().matches("SUCCEEDED|FAILED|REJECTED|CANCELLED"));
    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    assertThat(done.path("verification").path("passed").asBoolean()).isTrue();
    assertThat(done.path("verification").path("tables").findValuesAsText("table"))
        .containsExactly("billing.invoices", "public.customers", "public.order_items", "public.orders", "public.products");
    // The demo runbook configures no DNS, Heroku, config vars or RDS: those steps are skipped.
    assertThat(done.path("steps").findValuesAsText("state")).containsOnly("DONE", "SKIPPED");
    assertThat(done.path("steps").findValues("name").stream().filter(n -> true).map(JsonNode::asText).toList())
        .containsSubsequence("freeze-source", "copy", "verify", "sync-sequences", "gate:decommission")
        .doesNotContain("snapshot", "restore", "discard-snapshot");
    assertThat(done.path("verification").path("sequences").findValuesAsText("sequence")).contains("billing.invoice_number_seq");
    assertThat(done.path("preflight").path("audit").path("sequences").get(0).asText())
        .isEqualTo("billing.invoice_number_seq → billing.invoices.number");
    // Ferry did not move the traffic (no dns section), so the source stays frozen: nothing can
    // write to the old database after the cutover.
    assertThatThrownBy(() -> TestCluster.SOURCE.execute(shop.source, "UPDATE products SET price_cents = price_cents WHERE id = 1"))
        .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));

    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM order_items")).isEqualTo(60000);
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT last_value FROM billing.invoice_number_seq")).isEqualTo(115999);

    // The dump held production data: nothing of it stays on the worker's disk.
    try (Stream<Path> left = Files.walk(workDir)) {
      assertThat(left.filter(Files::isRegularFile)).isEmpty();
    }

    // The raw history, read without the payload key: the password only ever exists inside the
    // worker, and with payloads encrypted not even the runbook's references or table names show.
    String raw = temporalClient().fetchHistory(runId).toJson(false);
    String history = readable(raw);
    assertThat(history)
        .contains(PayloadEncryption.ENCODING)
        .doesNotContain(TestCluster.PASSWORD)
        .doesNotContain("env:SHOP_SOURCE_URL")
        .doesNotContain("SHOP_TARGET_URL")
        .doesNotContain("order_items")
        .doesNotContain("olivia");
    // The API, which holds the key, still reads it all.
    assertThat(done.path("startedBy").asText()).isEqualTo("olivia");

    // The run is in the ledger, started by the authenticated operator.
    JsonNode runs = JSON.readTree(get("/api/runs?app=shop", "ferry-dev-viewer").body());
    assertThat(runs.path("runs").findValuesAsText("runId")).contains(runId);
    JsonNode events = JSON.readTree(get("/api/runs/" + runId + "/events", "ferry-dev-viewer").body());
    assertThat(events.path("events").get(0).path("type").asText()).isEqualTo("REQUESTED");
    assertThat(events.path("events").get(0).path("actor").asText()).isEqualTo("olivia");
  }

  @Test
  void multiPhaseTriggerMigration_keepsUpWithAWritingApp_andLosesNoCommittedTransaction() throws Exception {
    String runbook =
        """
        app: shop-synced
        strategy: multi-phase
        source:
          herokuApp: shop-production
          databaseUrl: env:SHOP_SYNC_SOURCE_URL
        target:
          databaseUrl: env:SHOP_SYNC_TARGET_URL
        snapshot:
          jobs: 2
        sync:
          method: trigger
          maxLag: 30s
        fallbackWindow: 1s
        gates:
          start: {approvers: [arjun]}
          cutover: {approvers: [arjun]}
          decommission: {approvers: [arjun]}
        """;
    String runId;
    try (ShopWriter writer = new ShopWriter(synced.source).start()) {
      writer.awaitMore(10);
      runId = start(runbook);
      approve(runId, "start");
      writer.awaitMore(100);
      Eventually.get("the cutover gate", () -> status(runId), s -> "cutover".equals(s.path("pendingGate").path("gate").asText()));
      writer.awaitMore(100);
      // The freeze ends the writer's session: the app stops writing, as at a real cutover.
      approve(runId, "cutover");
      Eventually.get("the decommission gate", () -> status(runId), s -> "decommission".equals(s.path("pendingGate").path("gate").asText()));
      approve(runId, "decommission");
    }
    JsonNode done =
        Eventually.get("the run to end", () -> status(runId), s -> s.path("state").asText().matches("SUCCEEDED|FAILED|REJECTED|CANCELLED"));

    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    assertThat(done.path("verification").path("passed").asBoolean()).isTrue();
    assertThat(done.path("steps").findValues("name").stream().map(JsonNode::asText).toList())
        .containsSubsequence("start-sync", "catch-up", "gate:cutover", "freeze-source", "drain", "sync-sequences", "verify", "decommission");
    // The steps' activities started with the workflow task that scheduled them (eager), not
    // through the server's matching: a trip fewer per step, in the write downtime too.
    assertThat(stack.temporalCounter("activity_eager_execution")).as("activities started eagerly").isPositive();
    long onSource = TestCluster.SOURCE.queryLong(synced.source, "SELECT count(*) FROM customers WHERE email LIKE 'w%'");
    long onTarget = TestCluster.TARGET.queryLong(synced.target, "SELECT count(*) FROM customers WHERE email LIKE 'w%'");
    assertThat(onTarget).as("the writer's transactions on the target").isEqualTo(onSource).isGreaterThanOrEqualTo(200);
    // Decommissioned: the capture is gone from the source. The source stays frozen, so its write
    // fence stays (on every table), and a client that lifts read-only still cannot write.
    assertThat(TestCluster.SOURCE.queryLong(synced.source, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry_capture%'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(synced.source, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry_sync%'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(synced.source, "SELECT count(*) FROM pg_trigger WHERE tgname = 'ferry_write_fence'"))
        .isEqualTo(TestCluster.SOURCE.queryLong(synced.source,
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"));
    assertThatThrownBy(() -> TestCluster.SOURCE.execute(synced.source,
            "SET default_transaction_read_only = off", "INSERT INTO customers (email, full_name, country, created_at)"
                + " VALUES ('late@example.com', 'Late', 'NZ', now())"))
        .hasMessageContaining("write fence");
  }

  private static void approve(String runId, String gate) throws Exception {
    Eventually.get("gate " + gate, () -> status(runId), s -> gate.equals(s.path("pendingGate").path("gate").asText()));
    HttpResponse<String> approved =
        post("/api/runs/" + runId + "/gates/" + gate + "/approve", "ferry-dev-approver", "{\"comment\":\"e2e\"}", "application/json");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
  }

  @Test
  void aRehearsalThroughTheApi_restoresIntoAScratchDatabase_reportsEveryPhase_andLeavesNothingBehind() throws Exception {
    String runbook = runbookWithTarget("env:SHOP_TARGET_URL").replace("app: shop", "app: shop-rehearsed");
    HttpResponse<String> started = post("/api/rehearsals", "ferry-dev-operator", runbook, "application/yaml");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String id = JSON.readTree(started.body()).path("runId").asText();

    HttpResponse<String> reportResponse =
        Eventually.get("the rehearsal's report", () -> {
          try {
            return get("/api/rehearsals/" + id, "ferry-dev-viewer");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, r -> r.statusCode() == 200, java.time.Duration.ofSeconds(120));
    JsonNode report = JSON.readTree(reportResponse.body());
    assertThat(report.path("outcome").asText()).as(report.toString()).isEqualTo("succeeded");
    assertThat(report.path("phases").findValuesAsText("state")).containsOnly("SUCCEEDED");
    assertThat(report.path("phases").findValuesAsText("phase")).contains("create-scratch", "restore", "verify", "drop-scratch");
    assertThat(report.path("rows").asLong()).isEqualTo(101_500);
    assertThat(report.path("estimatedDowntimeMillis").asLong()).isPositive();
    assertThat(reportResponse.body()).doesNotContain(TestCluster.PASSWORD);
    // No scratch database stays on the target's server.
    String scratch = "ferry_rehearsal_" + id.substring(id.length() - 8);
    assertThat(TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + scratch + "'")).isZero();
    // Nothing secret in the rehearsal's history either.
    assertThat(readable(temporalClient().fetchHistory(id).toJson(false))).doesNotContain(TestCluster.PASSWORD);
    JsonNode listed = JSON.readTree(get("/api/rehearsals?app=shop-rehearsed", "ferry-dev-viewer").body());
    assertThat(listed.path("rehearsals").findValuesAsText("rehearsalId")).containsExactly(id);
    assertThat(listed.path("trend").path("successRate").asDouble()).isEqualTo(1.0);
  }

  @Test
  void unresolvableReference_failsPreflightAtOnceNamingTheField() throws Exception {
    String runId = start(runbookWithTarget("env:NO_SUCH_VARIABLE"));

    JsonNode failed = Eventually.get("preflight to fail", () -> status(runId), s -> "FAILED".equals(s.path("state").asText()));
    assertThat(failed.path("failure").asText())
        .isEqualTo("preflight: target.databaseUrl: env:NO_SUCH_VARIABLE is not set in the worker's environment");
    assertThat(failed.path("steps").get(1).path("state").asText()).isEqualTo("SKIPPED");
    assertThat(preflightAttempts(runId)).isOne();
  }

  @Test
  void aReferenceOutsideTheWorkersAllowList_failsPreflightAtOnce_namingItButNotItsValue() throws Exception {
    String runId = start(runbookWithTarget("env:OTHER_APP_DATABASE_URL"));

    JsonNode failed = Eventually.get("preflight to fail", () -> status(runId), s -> "FAILED".equals(s.path("state").asText()));
    assertThat(failed.path("failure").asText())
        .startsWith("preflight: target.databaseUrl: env:OTHER_APP_DATABASE_URL is not among the references this worker may resolve")
        .doesNotContain(TestCluster.PASSWORD, synced.target);
    assertThat(preflightAttempts(runId)).isOne();
  }

  @Test
  void unreachableTarget_failsPreflightNamingTheSide_afterAFewAttemptsNotForever() throws Exception {
    String runId = start(runbookWithTarget("env:SHOP_UNREACHABLE_URL"));

    // The real retry policy: 4 attempts, 2 + 4 + 8 s apart.
    JsonNode failed =
        Eventually.get(
            "preflight to give up",
            () -> status(runId),
            s -> "FAILED".equals(s.path("state").asText()),
            java.time.Duration.ofSeconds(90));
    assertThat(failed.path("failure").asText())
        .startsWith("preflight: target (env:SHOP_UNREACHABLE_URL → ferry@127.0.0.1:1/shop): cannot connect");
    assertThat(preflightAttempts(runId)).isEqualTo(4);
    // The failure's message is encrypted in history like every payload.
    assertThat(readable(temporalClient().fetchHistory(runId).toJson(false))).doesNotContain("cannot connect", "SHOP_UNREACHABLE_URL");
    java.util.List<String> states = failed.path("steps").findValuesAsText("state");
    assertThat(states.get(0)).isEqualTo("FAILED");
    assertThat(states.subList(1, states.size())).containsOnly("SKIPPED");
  }

  private static String runbookWithTarget(String reference) {
    return """
        app: shop
        strategy: single-phase
        source: {databaseUrl: env:SHOP_SOURCE_URL}
        target: {databaseUrl: %s}
        """.formatted(reference);
  }

  private static String start(String runbook) throws Exception {
    HttpResponse<String> started = post("/api/runs", "ferry-dev-operator", runbook, "application/yaml");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return JSON.readTree(started.body()).path("runId").asText();
  }

  /** The attempt number of the preflight activity's last start, as Temporal's history records it. */
  private static int preflightAttempts(String runId) {
    return temporalClient().fetchHistory(runId).getEvents().stream()
        .filter(e -> e.hasActivityTaskStartedEventAttributes())
        .mapToInt(e -> e.getActivityTaskStartedEventAttributes().getAttempt())
        .max()
        .orElse(0);
  }

  /** History JSON with every payload's base64 data decoded next to it, so a search sees values. */
  private static String readable(String historyJson) {
    StringBuilder decoded = new StringBuilder(historyJson);
    Matcher m = Pattern.compile("\"(?:data|encoding)\": \"([A-Za-z0-9+/=]+)\"").matcher(historyJson);
    while (m.find()) {
      decoded.append('\n').append(new String(Base64.getDecoder().decode(m.group(1)), StandardCharsets.UTF_8));
    }
    return decoded.toString();
  }

  private static WorkflowClient temporalClient() {
    return WorkflowClient.newInstance(
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(stack.temporalAddress()).build()));
  }

  private static JsonNode status(String runId) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(api("/api/runs/" + runId)).header("Authorization", "Bearer ferry-dev-viewer").GET().build(),
              HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<String> get(String path, String token) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(api(path)).header("Authorization", "Bearer " + token).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String path, String token, String body, String type) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(api(path))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI api(String path) {
    return URI.create("http://127.0.0.1:" + stack.apiPort() + path);
  }
}

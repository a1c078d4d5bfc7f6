package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the Temporal UI gets from the codec holds no secret: every payload of real runs (inputs,
 * results, activity arguments, failures with their stack traces) and what a running activity
 * shows (its heartbeat, its last failure while it retries), decrypted with the payload key as it
 * is and through the API's codec as the UI asks, against the real clusters. The logical sync is
 * the run to watch: it is the one activity that builds a connection string with a password in it
 * (CREATE SUBSCRIPTION). Both reads must agree: the codec's credential mask must not be what keeps
 * a secret from the UI.
 */
class CodecShowsNoSecretTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String UNREACHABLE_SECRET = "codec-test-secret-7f3a";

  @TempDir static Path workDir;
  static MigrationDatabases shop;
  static InProcessStack stack;
  static String ledgerDatabase;
  static PayloadEncryption encryption;
  static WorkflowServiceStubs temporal;

  @BeforeAll
  static void startStack() throws Exception {
    shop = MigrationDatabases.shop();
    Map<String, String> environment = new HashMap<>(shop.environment());
    environment.put("SHOP_UNREACHABLE_URL", "postgres://ferry:" + UNREACHABLE_SECRET + "@127.0.0.1:1/shop");
    ledgerDatabase = TestCluster.uniqueDatabaseName("ferry_ledger_codec");
    TestCluster.TARGET.createDatabase(ledgerDatabase);
    String ledger = TestCluster.TARGET.url(ledgerDatabase);
    environment.put("FERRY_LEDGER_URL", ledger);
    System.setProperty("dw.server.applicationConnectors[0].port", "0");
    System.setProperty("dw.server.adminConnectors[0].port", "0");
    WorkerSettings settings = new WorkerSettings("unused:0", "default", "ferry", "ferry-host-codec", workDir, 4);
    stack = InProcessStack.start(settings, environment, ledger, System.getProperty("ferry.apiConfig"));
    encryption = PayloadEncryption.of(stack.payloadKey(), "");
    temporal = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(stack.temporalAddress()).build());
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (temporal != null) {
      temporal.shutdownNow();
    }
    if (stack != null) {
      stack.close();
    }
    shop.close();
    TestCluster.TARGET.dropDatabase(ledgerDatabase);
  }

  @Test
  void aLogicalSyncRun_itsHeartbeatsAndItsWholeHistory_decodeWithoutAPassword() throws Exception {
    String runId =
        start(
            """
            app: shop-codec
            strategy: multi-phase
            source: {databaseUrl: env:SHOP_SOURCE_URL}
            target: {databaseUrl: env:SHOP_TARGET_URL}
            sync: {method: logical, maxLag: 30s}
            gates:
              start: {approvers: [arjun]}
              cutover: {approvers: [arjun]}
            """);
    decide(runId, "start", "approve", "{\"comment\":\"codec\"}");
    try {
      Eventually.get("the cutover gate", () -> status(runId), s -> "cutover".equals(s.path("pendingGate").path("gate").asText()), Duration.ofSeconds(120));
      // The apply activity runs while the gate waits, heartbeating the lag: what the UI's
      // Pending Activities tab shows.
      PendingActivityInfo applying =
          Eventually.get("the apply activity's heartbeat", () -> pending(runId, "ApplyChanges"), p -> p != null && p.hasHeartbeatDetails());
      List<Payload> heartbeat = payloads(applying);
      assertThat(heartbeat).isNotEmpty();
      String shown = decodedText(heartbeat);
      assertThat(shown).contains("lag").doesNotContain(TestCluster.PASSWORD);
      // And the pre-verification's, beside it.
      PendingActivityInfo proving =
          Eventually.get(
              "the pre-verification's heartbeat", () -> pending(runId, "PreverifyWhileSyncing"), p -> p != null && p.hasHeartbeatDetails());
      assertThat(decodedText(payloads(proving))).contains("chunks proven").doesNotContain(TestCluster.PASSWORD);
    } finally {
      decide(runId, "cutover", "reject", "{\"comment\":\"codec test: tear the sync down\"}");
      Eventually.get("the rollback", () -> status(runId), s -> "REJECTED".equals(s.path("state").asText()), Duration.ofSeconds(120));
    }
    List<Payload> history = payloads(client().fetchHistory(runId).getHistory());
    assertThat(history).anySatisfy(p -> assertThat(p.getMetadataOrThrow("encoding").toStringUtf8()).isEqualTo(PayloadEncryption.ENCODING));
    String all = decodedText(history);
    assertThat(all).contains("env:SHOP_SOURCE_URL", "shop-codec").doesNotContain(TestCluster.PASSWORD);
    // No slot outlives the run (the rollback dropped it), so this test leaves nothing behind.
    assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_replication_slots WHERE database = '" + shop.source + "'")).isZero();
  }

  @Test
  void aPreflightThatCannotConnect_showsItsFailures_neverThePasswordOfItsUrl() throws Exception {
    String runId =
        start(
            """
            app: shop-codec-down
            strategy: single-phase
            source: {databaseUrl: env:SHOP_SOURCE_URL}
            target: {databaseUrl: env:SHOP_UNREACHABLE_URL}
            """);
    // While it retries, the UI shows the pending activity's last failure.
    PendingActivityInfo retrying =
        Eventually.get("preflight's first failure", () -> pending(runId, "AuditDatabases"), p -> p != null && p.hasLastFailure(), Duration.ofSeconds(60));
    assertThat(decodedText(payloads(retrying))).contains("cannot connect").doesNotContain(UNREACHABLE_SECRET);

    Eventually.get("preflight to give up", () -> status(runId), s -> "FAILED".equals(s.path("state").asText()), Duration.ofSeconds(90));
    String all = decodedText(payloads(client().fetchHistory(runId).getHistory()));
    assertThat(all).contains("cannot connect", "env:SHOP_UNREACHABLE_URL").doesNotContain(UNREACHABLE_SECRET, TestCluster.PASSWORD);
  }

  /**
   * The payloads' text, decrypted with the key as they are, and checked to be exactly what the
   * codec gives the UI: nothing masked, nothing left encrypted.
   */
  private static String decodedText(List<Payload> payloads) throws Exception {
    List<Payload> raw = new ArrayList<>();
    for (Payload p : payloads) {
      raw.add(encryption.decode(List.of(p)).get(0));
    }
    StringBuilder body = new StringBuilder("{\"payloads\":[");
    for (int i = 0; i < payloads.size(); i++) {
      body.append(i == 0 ? "" : ",").append(json(payloads.get(i)));
    }
    body.append("]}");
    HttpResponse<String> decoded =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.apiPort() + "/codec/decode"))
                .header("Authorization", "Bearer ferry-dev-viewer")
                .header("Content-Type", "application/json")
                .header("X-Namespace", "default")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(decoded.statusCode()).as(decoded.body()).isEqualTo(200);
    List<String> fromCodec = new ArrayList<>();
    for (JsonNode p : JSON.readTree(decoded.body()).path("payloads")) {
      fromCodec.add(new String(Base64.getDecoder().decode(p.path("data").asText("")), StandardCharsets.UTF_8));
    }
    List<String> fromKey = raw.stream().map(p -> p.getData().toStringUtf8()).toList();
    assertThat(fromCodec).as("what the codec gives the UI is what the key reads").isEqualTo(fromKey);
    return String.join("\n", fromKey);
  }

  private static String json(Payload p) {
    Base64.Encoder b64 = Base64.getEncoder();
    String metadata =
        p.getMetadataMap().entrySet().stream()
            .map(e -> "\"" + e.getKey() + "\":\"" + b64.encodeToString(e.getValue().toByteArray()) + "\"")
            .collect(Collectors.joining(","));
    return "{\"metadata\":{" + metadata + "},\"data\":\"" + b64.encodeToString(p.getData().toByteArray()) + "\"}";
  }

  /** Every Payload anywhere in a message: arguments, results, failures' encoded attributes, heartbeats. */
  static List<Payload> payloads(Message message) {
    List<Payload> out = new ArrayList<>();
    collect(message, out);
    return out;
  }

  private static void collect(Message m, List<Payload> out) {
    if (m instanceof Payload p) {
      out.add(p);
      return;
    }
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (e.getKey().isRepeated()) {
        for (Object o : (List<?>) e.getValue()) {
          collect((Message) o, out);
        }
      } else {
        collect((Message) e.getValue(), out);
      }
    }
  }

  /** The run's pending activity of {@code type}, or null (a multi-phase run has two while its gate waits). */
  private static PendingActivityInfo pending(String runId, String type) {
    var described =
        client()
            .getWorkflowServiceStubs()
            .blockingStub()
            .describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder()
                    .setNamespace("default")
                    .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId))
                    .build());
    return described.getPendingActivitiesList().stream()
        .filter(a -> a.getActivityType().getName().equals(type))
        .findFirst()
        .orElse(null);
  }

  private static String start(String runbook) throws Exception {
    HttpResponse<String> started = send("POST", "/api/runs", "ferry-dev-operator", runbook, "application/yaml");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return JSON.readTree(started.body()).path("runId").asText();
  }

  private static void decide(String runId, String gate, String verb, String body) throws Exception {
    Eventually.get("gate " + gate, () -> status(runId), s -> gate.equals(s.path("pendingGate").path("gate").asText()), Duration.ofSeconds(120));
    HttpResponse<String> decided = send("POST", "/api/runs/" + runId + "/gates/" + gate + "/" + verb, "ferry-dev-approver", body, "application/json");
    assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
  }

  private static JsonNode status(String runId) {
    try {
      return JSON.readTree(send("GET", "/api/runs/" + runId, "ferry-dev-viewer", null, null).body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<String> send(String method, String path, String token, String body, String type) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.apiPort() + path)).header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static WorkflowClient client() {
    return WorkflowClient.newInstance(temporal);
  }
}

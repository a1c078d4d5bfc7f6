package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.auth.TokenHash;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.temporal.TemporalDevServer;
import dev.ferry.worker.deploy.ComposeFile;
import dev.ferry.worker.deploy.Dockerfile;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker and API jars started as the images start them (deploy/Dockerfile's ENTRYPOINT and
 * CMD) with exactly the environment docker-compose.yml gives their containers, read with
 * deploy/env.example as .env plus what an operator puts there: FERRY_USERS with their own
 * token hashes and FERRY_TEMPORAL_ADDRESS, here a real Temporal server ({@code temporal server
 * start-dev}) on a free port, set up by the compose file's own set-up job (deploy/temporal/
 * setup-namespace.sh: the namespace and Ferry's search attributes).
 * Only what a container has of its own is replaced: the work-dir volume by a temporary
 * directory, the container's ports (8080, 8081, 8091) by free ones, /opt/ferry by the built
 * files.
 */
class ComposeEnvironmentIT {
  static final Path ROOT = Path.of(System.getProperty("ferry.repoRoot", ".."));
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static final String OPERATOR_TOKEN = "it-operator-" + UUID.randomUUID();
  static final String VIEWER_TOKEN = "it-viewer-" + UUID.randomUUID();

  static final String PAYLOAD_KEY = PayloadEncryption.randomKey();
  static final String APPROVAL_KEY = PayloadEncryption.randomKey();
  /** What an operator writes in .env for this test's runbooks. */
  static final String SECRET_REFS = "env:SHOP_SOURCE_URL,env:SHOP_TARGET_URL";
  /** What the compose file gives both: the ledger database in its PostgreSQL, with .env's password. */
  static final String COMPOSE_LEDGER_URL = "postgres://ferry:change-me-ledger@postgresql:5432/ferry";

  @TempDir Path tmp;
  TemporalDevServer temporal;
  String ledgerDatabase;
  String ledgerUrl;
  final List<Process> processes = new ArrayList<>();

  @BeforeEach
  void startTemporal() throws Exception {
    // A bare server: the compose job registers the search attributes, as it does in compose.
    temporal = TemporalDevServer.start(TemporalDevServer.Options.inMemory().withoutSearchAttributes());
    ledgerDatabase = TestCluster.uniqueDatabaseName("ferry_ledger_it");
    TestCluster.TARGET.createDatabase(ledgerDatabase);
    ledgerUrl = TestCluster.TARGET.url(ledgerDatabase);
  }

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(45, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    temporal.close();
    try {
      TestCluster.TARGET.dropDatabase(ledgerDatabase);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void workerAndApi_withTheComposeEnvironment_takeARunThroughPreflight() throws Exception {
    ComposeFile compose = compose(users(OPERATOR_TOKEN, VIEWER_TOKEN));
    Dockerfile images = Dockerfile.read(Dockerfile.path());
    runTemporalSetupJob(compose);

    Map<String, String> workerEnv = compose.environment("worker");
    assertThat(workerEnv.remove("FERRY_WORK_DIR")).isEqualTo("/var/lib/ferry/work"); // the ferry-work volume
    // The compose PostgreSQL's ledger database; here one of the test's own on the local cluster.
    assertThat(workerEnv.put("FERRY_LEDGER_URL", ledgerUrl)).isEqualTo(COMPOSE_LEDGER_URL);
    workerEnv.put("FERRY_WORK_DIR", tmp.resolve("work").toString());
    int workerHealthPort = freePort();
    assertThat(workerEnv.put("FERRY_WORKER_HEALTH_PORT", String.valueOf(workerHealthPort))).isEqualTo("8091");
    start("worker", images.stage("worker").command(), workerEnv);

    int apiPort = freePort();
    int adminPort = freePort();
    start("api", images.stage("api").command(), apiEnvironment(compose, apiPort, adminPort));

    JsonNode health = waitFor("the API's health checks to pass", () -> get(adminPort, "/healthcheck", null), r -> r.status == 200).json();
    assertThat(health.path("temporal").path("healthy").asBoolean()).isTrue();
    assertThat(health.path("ledger").path("healthy").asBoolean()).isTrue();
    Response workerHealth = waitFor("the worker's health check to pass", () -> get(workerHealthPort, "/health", null), r -> r.status == 200);
    assertThat(workerHealth.body()).isEqualTo("ok\n");
    // Both expose Prometheus text: the API's requests and Temporal client, the worker's Temporal SDK.
    assertThat(get(adminPort, "/prometheus", null).body()).contains("io_dropwizard_jetty_MutableServletContextHandler_requests");
    assertThat(waitFor("the worker's SDK metrics", () -> get(workerHealthPort, "/metrics", null), r -> r.body().contains("temporal_")).body())
        .contains("temporal_");

    // A run whose target cannot be resolved fails in preflight: the worker took the workflow
    // task and the activity from the queue the compose file names, with its environment.
    String runId = startSinglePhase(apiPort, "env:SHOP_SOURCE_URL");
    JsonNode failed = awaitFailed(apiPort, runId, "the worker to run preflight");
    assertThat(failed.path("failure").asText()).contains("env:SHOP_SOURCE_URL is not set in the worker's environment");

    // A reference .env's FERRY_SECRET_REFS does not list is refused by the worker, naming it.
    String outsideRun = startSinglePhase(apiPort, "env:OTHER_APP_DATABASE_URL");
    JsonNode refused = awaitFailed(apiPort, outsideRun, "the worker to refuse the reference");
    assertThat(refused.path("failure").asText())
        .contains("source.databaseUrl: env:OTHER_APP_DATABASE_URL is not among the references this worker may resolve");

    // What the Temporal UI shows of it: the plain workflow type, the run id and the queue.
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(temporal.address()).build());
    try {
      DescribeWorkflowExecutionResponse described =
          stubs.blockingStub().describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(workerEnv.get("TEMPORAL_NAMESPACE"))
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId))
                  .build());
      assertThat(described.getWorkflowExecutionInfo().getType().getName()).isEqualTo("MigrationWorkflow");
      assertThat(described.getExecutionConfig().getTaskQueue().getName()).isEqualTo(workerEnv.get("FERRY_TASK_QUEUE"));
    } finally {
      stubs.shutdownNow();
    }
  }

  @Test
  void theWorkerJar_carriesNeitherTheApiNorATemporalServer() throws IOException {
    // What deploy/Dockerfile copies into the worker image.
    try (var jar = new java.util.jar.JarFile(System.getProperty("ferry.workerJar"))) {
      List<String> names = jar.stream().map(java.util.jar.JarEntry::getName).toList();
      assertThat(names).contains("dev/ferry/worker/FerryWorker.class");
      assertThat(names).noneMatch(n -> n.startsWith("dev/ferry/api/"));
      assertThat(names).noneMatch(n -> n.startsWith("io/dropwizard/") || n.startsWith("org/eclipse/jetty/"));
      // Temporal's Java test server (io.temporal:temporal-test-server).
      assertThat(names).noneMatch(n -> n.startsWith("io/temporal/internal/testservice/TestWorkflowService"));
      assertThat(names).noneMatch(n -> n.startsWith("io/temporal/testserver/"));
    }
  }

  @Test
  void theApi_refusesTheReadmesDevTokens_withTheComposeEnvironment() throws Exception {
    // An operator who pasted the dev users into .env: the API listens on 0.0.0.0 there.
    ComposeFile compose = compose(users("ferry-dev-operator", "ferry-dev-viewer"));
    Process api =
        start("api-dev-tokens", Dockerfile.read(Dockerfile.path()).stage("api").command(), apiEnvironment(compose, freePort(), freePort()));

    assertThat(api.waitFor(60, TimeUnit.SECONDS)).as("the API exits").isTrue();
    assertThat(api.exitValue()).isNotZero();
    assertThat(Files.readString(tmp.resolve("api-dev-tokens.log"))).contains("refusing to start", "dev tokens published in the README");
  }

  @Test
  void withoutAnApprovalKey_workerAndApiRefuseToStart_unlessTheOperatorSaysWhoCanThenApprove() throws Exception {
    // An operator who deleted FERRY_APPROVAL_KEY from .env and set nothing else.
    Map<String, String> dotEnv = dotEnv(users(OPERATOR_TOKEN, VIEWER_TOKEN));
    dotEnv.remove("FERRY_APPROVAL_KEY");
    ComposeFile compose = ComposeFile.read(ComposeFile.path(), dotEnv);
    Dockerfile images = Dockerfile.read(Dockerfile.path());
    // Compose starts the worker and the API after its set-up job: the server is ready for them.
    runTemporalSetupJob(compose);
    Map<String, String> workerEnv = compose.environment("worker");
    workerEnv.put("FERRY_WORK_DIR", tmp.resolve("work").toString());
    workerEnv.put("FERRY_LEDGER_URL", ledgerUrl);
    workerEnv.put("FERRY_WORKER_HEALTH_PORT", String.valueOf(freePort()));

    Process worker = start("worker-unsigned", images.stage("worker").command(), workerEnv);
    Process api = start("api-unsigned", images.stage("api").command(), apiEnvironment(compose, freePort(), freePort()));

    for (Process p : List.of(worker, api)) {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the process exits").isTrue();
      assertThat(p.exitValue()).isNotZero();
    }
    processes.clear();
    assertThat(Files.readString(tmp.resolve("worker-unsigned.log")))
        .contains("FERRY_APPROVAL_KEY is not set", "FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal");
    assertThat(Files.readString(tmp.resolve("api-unsigned.log")))
        .contains("approvals.signingKey (FERRY_APPROVAL_KEY) is not set", "FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal");

    // The documented opt-out: both start, and say at start who can approve.
    dotEnv.put("FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal");
    compose = ComposeFile.read(ComposeFile.path(), dotEnv);
    Map<String, String> optedOut = compose.environment("worker");
    optedOut.put("FERRY_WORK_DIR", tmp.resolve("work").toString());
    optedOut.put("FERRY_LEDGER_URL", ledgerUrl);
    optedOut.put("FERRY_WORKER_HEALTH_PORT", String.valueOf(freePort()));
    start("worker-opted-out", images.stage("worker").command(), optedOut);
    int adminPort = freePort();
    start("api-opted-out", images.stage("api").command(), apiEnvironment(compose, freePort(), adminPort));

    waitFor("the API's health checks to pass", () -> get(adminPort, "/healthcheck", null), r -> r.status == 200);
    waitFor("the worker's warning", () -> read(tmp.resolve("worker-opted-out.log")), log -> log.contains("APPROVALS ARE NOT SIGNED"));
    assertThat(Files.readString(tmp.resolve("api-opted-out.log"))).contains("APPROVALS ARE NOT SIGNED", temporal.address());
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private ComposeFile compose(String ferryUsers) throws IOException {
    return ComposeFile.read(ComposeFile.path(), dotEnv(ferryUsers));
  }

  /** deploy/env.example as .env, with what an operator fills in. */
  private Map<String, String> dotEnv(String ferryUsers) throws IOException {
    Map<String, String> dotEnv = new LinkedHashMap<>(ComposeFile.readEnvFile(ROOT.resolve("deploy/env.example")));
    dotEnv.put("FERRY_USERS", ferryUsers);
    dotEnv.put("FERRY_TEMPORAL_ADDRESS", temporal.address());
    dotEnv.put("FERRY_PAYLOAD_KEY", PAYLOAD_KEY);
    assertThat(dotEnv.put("FERRY_APPROVAL_KEY", APPROVAL_KEY)).as("env.example's placeholder").startsWith("REPLACE-WITH");
    assertThat(dotEnv.put("FERRY_SECRET_REFS", SECRET_REFS)).as("env.example's placeholder").contains("REPLACE-WITH");
    return dotEnv;
  }

  /**
   * The compose file's one-shot {@code temporal-setup} service: its script, with its
   * environment, and this machine's temporal CLI for the one in the admin-tools image.
   */
  private void runTemporalSetupJob(ComposeFile compose) throws Exception {
    Map<String, String> env = compose.environment("temporal-setup");
    // The compose network's service name; here the test's server.
    assertThat(env.put("TEMPORAL_ADDRESS", temporal.address())).isEqualTo("temporal:7233");
    // What the admin-tools image has of its own: the temporal CLI on PATH, a HOME.
    env.put("PATH", TemporalDevServer.binary().getParent() + ":/usr/bin:/bin");
    env.put("HOME", tmp.toString());
    ProcessBuilder job =
        new ProcessBuilder("sh", ROOT.resolve("deploy/temporal/setup-namespace.sh").toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("temporal-setup.log").toFile());
    job.environment().clear();
    job.environment().putAll(env);
    Process process = job.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the set-up job ends").isTrue();
    assertThat(process.exitValue()).as(Files.readString(tmp.resolve("temporal-setup.log"))).isZero();

    OperatorServiceStubs stubs =
        OperatorServiceStubs.newServiceStubs(OperatorServiceStubsOptions.newBuilder().setTarget(temporal.address()).validateAndBuildWithDefaults());
    try {
      var attributes =
          stubs
              .blockingStub()
              .listSearchAttributes(ListSearchAttributesRequest.newBuilder().setNamespace(env.get("FERRY_NAMESPACE")).build())
              .getCustomAttributesMap();
      for (String name : TemporalDevServer.SEARCH_ATTRIBUTES) {
        assertThat(attributes).as("search attribute " + name).containsEntry(name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      }
    } finally {
      stubs.shutdownNow();
    }
  }

  private static String users(String operatorToken, String viewerToken) {
    return "[{name: olivia, roles: [operator, viewer], tokenSha256: " + TokenHash.sha256Hex(operatorToken) + "}, "
        + "{name: val, roles: [viewer], tokenSha256: " + TokenHash.sha256Hex(viewerToken) + "}]";
  }

  private Map<String, String> apiEnvironment(ComposeFile compose, int apiPort, int adminPort) {
    Map<String, String> env = compose.environment("api");
    assertThat(env.put("FERRY_API_PORT", String.valueOf(apiPort))).isEqualTo("8080");
    assertThat(env.put("FERRY_ADMIN_PORT", String.valueOf(adminPort))).isEqualTo("8081");
    assertThat(env.put("FERRY_LEDGER_URL", ledgerUrl)).isEqualTo(COMPOSE_LEDGER_URL);
    return env;
  }

  /** The image's command on this machine: this JVM's java, /opt/ferry/... from the repository. */
  private Process start(String name, List<String> imageCommand, Map<String, String> environment) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    for (String arg : imageCommand.subList(1, imageCommand.size())) {
      command.add(switch (arg) {
        case "/opt/ferry/ferry-worker.jar" -> System.getProperty("ferry.workerJar");
        case "/opt/ferry/ferry-api.jar" -> System.getProperty("ferry.apiJar");
        case "/opt/ferry/config/ferry.yml" -> ROOT.resolve("api/config/ferry.yml").toString();
        default -> arg;
      });
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile());
    builder.environment().clear();
    builder.environment().putAll(environment);
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  record Response(int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new IllegalStateException(body, e);
      }
    }
  }

  /** Starts a single-phase run of the shop from {@code sourceRef} as the operator; its run id. */
  private static String startSinglePhase(int apiPort, String sourceRef) throws Exception {
    HttpResponse<String> started =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/api/runs"))
                .header("Authorization", "Bearer " + OPERATOR_TOKEN)
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(
                    "app: shop\nstrategy: single-phase\nsource: {databaseUrl: " + sourceRef + "}\n"
                        + "target: {databaseUrl: env:SHOP_TARGET_URL}\n"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return JSON.readTree(started.body()).path("runId").asText();
  }

  /** The run's status once it has FAILED. */
  private JsonNode awaitFailed(int apiPort, String runId, String what) throws Exception {
    return waitFor(what, () -> get(apiPort, "/api/runs/" + runId, VIEWER_TOKEN),
            r -> r.status == 200 && "FAILED".equals(r.json().path("state").asText()))
        .json();
  }

  private static Response get(int port, String path, String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Response(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Polls until done, failing at once (with the process's output) if the process died. */
  private <T> T waitFor(String what, Supplier<T> probe, Predicate<T> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new AssertionError("a process exited (" + p.exitValue() + ") while waiting for " + what + ":\n" + logs());
        }
      }
      last = probe.get();
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("gave up waiting for " + what + "; last seen: " + last + "\n" + logs());
  }

  private String logs() throws IOException {
    StringBuilder all = new StringBuilder();
    try (var files = Files.list(tmp)) {
      for (Path log : files.filter(f -> f.toString().endsWith(".log")).toList()) {
        all.append("--- ").append(log.getFileName()).append('\n').append(Files.readString(log));
      }
    }
    return all.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}

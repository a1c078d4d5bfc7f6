package dev.ferry.testing.process;

import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.temporal.TemporalDevServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Ferry as it runs in a deployment, every part its own process: the real Temporal server
 * ({@code temporal server start-dev}, its state in an SQLite file so that it survives a kill),
 * the API ({@code java -jar ferry-api.jar server api/config/dev.yml}) and workers ({@code java
 * -jar ferry-worker.jar worker}), all with the environment of one {@link StackEnvironment}, and
 * a run ledger of the stack's own. Any part can be killed (SIGKILL) and started again; a
 * restarted API listens on the same port, a restarted worker polls the same queues and shares
 * the same work directory, as on the same host.
 *
 * <p>The jars are the built ones ({@code ferry.workerJar}, {@code ferry.apiJar}: failsafe sets
 * them after {@code package}). Logs of every process go to {@code target/process-logs/<name>-<time>/}
 * and stay there after the test.
 */
public final class ProcessStack implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** How long a process may take to come up on this shared 2-core machine. */
  static final Duration START_BOUND = Duration.ofSeconds(120);

  private final String name;
  private final Path logs;
  private final TemporalDevServer temporal;
  private final String ledgerDatabase;
  private final StackEnvironment environment;
  private final RunHistory history;
  private final RunApi runs;
  private final int apiPort = freePort();
  private final int adminPort = freePort();
  private final List<FerryProcess> workers = new ArrayList<>();
  private final List<FerryProcess> apis = new ArrayList<>();
  private final java.util.Map<FerryProcess, Integer> healthPorts = new java.util.HashMap<>();

  private ProcessStack(String name, Path logs, TemporalDevServer temporal, String ledgerDatabase, StackEnvironment environment) {
    this.name = name;
    this.logs = logs;
    this.temporal = temporal;
    this.ledgerDatabase = ledgerDatabase;
    this.environment = environment;
    this.history = new RunHistory(temporal.address(), environment.payloadKey());
    this.runs = new RunApi(() -> apiPort);
  }

  /**
   * Starts the server and a ledger; the API and the first worker are started by the caller
   * ({@link #startApi()}, {@link #startWorker()}), once the environment is complete.
   *
   * @param name names the log directory and the worker processes
   * @param workDir the workers' shared {@code FERRY_WORK_DIR}
   * @param configure adds to the environment (the databases the runbooks reference)
   */
  public static ProcessStack start(String name, Path workDir, UnaryOperator<StackEnvironment> configure) throws Exception {
    Path logs =
        Path.of("target", "process-logs", name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss-SSS")))
            .toAbsolutePath();
    Files.createDirectories(logs);
    TemporalDevServer temporal =
        TemporalDevServer.start(TemporalDevServer.Options.inMemory().withDbFile(logs.resolve("temporal.db")));
    String ledger = TestCluster.uniqueDatabaseName("ferry_ledger_proc");
    try {
      TestCluster.TARGET.createDatabase(ledger);
      StackEnvironment env = configure.apply(StackEnvironment.of(temporal.address(), TestCluster.TARGET.url(ledger), workDir));
      return new ProcessStack(name, logs, temporal, ledger, env);
    } catch (Exception | Error e) {
      temporal.close();
      TestCluster.TARGET.dropDatabase(ledger);
      throw e;
    }
  }

  public StackEnvironment environment() {
    return environment;
  }

  public TemporalDevServer temporal() {
    return temporal;
  }

  public RunApi runs() {
    return runs;
  }

  public RunHistory history() {
    return history;
  }

  public Path logDirectory() {
    return logs;
  }

  // ---- workers ----------------------------------------------------------------------------------

  /** Starts a worker process and returns once it polls and Temporal answers it (its /health). */
  public FerryProcess startWorker() {
    FerryProcess worker = launchWorker();
    awaitWorker(worker);
    return worker;
  }

  /** Starts the API and a worker side by side and returns once both are up. */
  public void startApiAndWorker() {
    FerryProcess api = launchApi();
    FerryProcess worker = launchWorker();
    awaitApi(api);
    awaitWorker(worker);
  }

  private FerryProcess launchWorker() {
    int health = freePort();
    FerryProcess worker =
        FerryProcess.start(
            name + "-worker-" + (workers.size() + 1),
            jar("ferry.workerJar"),
            List.of("worker"),
            environment.worker(health),
            logs);
    workers.add(worker);
    healthPorts.put(worker, health);
    return worker;
  }

  private void awaitWorker(FerryProcess worker) {
    int health = healthPorts.get(worker);
    Waiting.until(
        worker + " to poll",
        () -> {
          if (!worker.isAlive()) {
            throw new AssertionError(worker + " exited while starting:\n" + worker.log());
          }
          return get(health, "/health") == 200;
        },
        START_BOUND);
  }

  /** The worker started last. */
  public FerryProcess worker() {
    if (workers.isEmpty()) {
      throw new IllegalStateException("no worker started");
    }
    return workers.get(workers.size() - 1);
  }

  public List<FerryProcess> workers() {
    return List.copyOf(workers);
  }

  /** SIGKILLs the current worker; returns it (its kill time, its orphans). */
  public FerryProcess killWorker() {
    FerryProcess worker = worker();
    worker.kill();
    return worker;
  }

  /**
   * The current worker's {@code GET /health} status: 200 while it polls and Temporal answers
   * it, 503 when Temporal does not, -1 when the worker is gone.
   */
  public int workerHealth() {
    return get(healthPorts.get(worker()), "/health");
  }

  // ---- the API ----------------------------------------------------------------------------------

  /** Starts the API on the stack's port and returns once its health checks pass. */
  public FerryProcess startApi() {
    FerryProcess api = launchApi();
    awaitApi(api);
    return api;
  }

  private FerryProcess launchApi() {
    FerryProcess api =
        FerryProcess.start(
            name + "-api-" + (apis.size() + 1),
            jar("ferry.apiJar"),
            List.of("server", repoRoot().resolve("api/config/dev.yml").toString()),
            environment.api(apiPort, adminPort),
            logs);
    apis.add(api);
    return api;
  }

  private void awaitApi(FerryProcess api) {
    Waiting.until(
        api + " to pass its health checks",
        () -> {
          if (!api.isAlive()) {
            throw new AssertionError(api + " exited while starting:\n" + api.log());
          }
          return get(adminPort, "/healthcheck") == 200;
        },
        START_BOUND);
  }

  public FerryProcess api() {
    if (apis.isEmpty()) {
      throw new IllegalStateException("no API started");
    }
    return apis.get(apis.size() - 1);
  }

  public FerryProcess killApi() {
    FerryProcess api = api();
    api.kill();
    return api;
  }

  // ---- clean-up ---------------------------------------------------------------------------------

  /** The last lines of every process's log, for a failure's message. */
  public String logTails() {
    StringBuilder all = new StringBuilder("logs in ").append(logs).append('\n');
    for (FerryProcess p : concat()) {
      String log = p.log();
      String[] lines = log.split("\n");
      all.append("--- ").append(p).append('\n');
      for (int i = Math.max(0, lines.length - 15); i < lines.length; i++) {
        all.append(lines[i]).append('\n');
      }
    }
    return all.toString();
  }

  /** Every process of the stack ended (with whatever its dead predecessors left), the server, the ledger. */
  @Override
  public void close() throws Exception {
    for (FerryProcess p : concat()) {
      p.destroyAll();
    }
    history.close();
    temporal.close();
    TestCluster.TARGET.dropDatabase(ledgerDatabase);
  }

  private List<FerryProcess> concat() {
    List<FerryProcess> all = new ArrayList<>(apis);
    all.addAll(workers);
    return all;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** The status code of a GET on a loopback port; -1 when nothing answers. */
  static int get(int port, String path) {
    try {
      HttpResponse<Void> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Path jar(String property) {
    String path = System.getProperty(property);
    if (path == null || !Files.isRegularFile(Path.of(path))) {
      throw new IllegalStateException(
          property + " is not a built jar (" + path + "): process tests run under failsafe after package (mvn verify)");
    }
    return Path.of(path);
  }

  static Path repoRoot() {
    return Path.of(System.getProperty("ferry.repoRoot", "..")).toAbsolutePath().normalize();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

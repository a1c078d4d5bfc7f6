package dev.ferry.testing.temporal;

import dev.ferry.model.RunSearchAttributes;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.common.SearchAttributeKey;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Temporal server for tests: {@code temporal server start-dev} (Temporal CLI v1.5.1,
 * server 1.29) as a child process on loopback, in memory or on an SQLite file, with Ferry's
 * search attributes registered. It has what Temporal's Java test server lacks: visibility
 * (list), Schedules, sticky queues that time out when their worker dies, a Web UI.
 *
 * <p>The binary is the one {@code ./ferry} obtains ({@code .ferry/bin/temporal}), or {@code
 * FERRY_TEMPORAL_BIN}. A missing binary fails the test with what to do; it never skips.
 */
public final class TemporalDevServer implements AutoCloseable {
  /** Ferry's search attributes, all Keyword: what {@code ./ferry dev} and compose register. */
  public static final List<String> SEARCH_ATTRIBUTES =
      RunSearchAttributes.ALL.stream().map(SearchAttributeKey::getName).toList();

  private final Options options;
  private final Path log;
  private int port;
  private int uiPort;
  private int metricsPort;
  private Process process;

  private TemporalDevServer(Options options, Path log) {
    this.options = options;
    this.log = log;
  }

  /**
   * What to start: in memory, no UI, only the default namespace, Ferry's search attributes
   * registered.
   */
  public record Options(Path dbFile, boolean ui, String codecEndpoint, List<String> namespaces, boolean searchAttributes) {
    public static Options inMemory() {
      return new Options(null, false, null, List.of(), true);
    }

    public Options withDbFile(Path file) {
      return new Options(file, ui, codecEndpoint, namespaces, searchAttributes);
    }

    public Options withUi(String codecEndpoint) {
      return new Options(dbFile, true, codecEndpoint, namespaces, searchAttributes);
    }

    public Options withNamespace(String namespace) {
      List<String> all = new ArrayList<>(namespaces);
      all.add(namespace);
      return new Options(dbFile, ui, codecEndpoint, List.copyOf(all), searchAttributes);
    }

    /** As a bare server: whoever uses it registers the search attributes (compose's set-up job). */
    public Options withoutSearchAttributes() {
      return new Options(dbFile, ui, codecEndpoint, namespaces, false);
    }
  }

  /** An in-memory server without UI on free ports. */
  public static TemporalDevServer start() {
    return start(Options.inMemory());
  }

  public static TemporalDevServer start(Options options) {
    Path log;
    try {
      Path dir = Path.of("target", "temporal-logs");
      Files.createDirectories(dir);
      log = Files.createTempFile(dir, "temporal-", ".log").toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TemporalDevServer server = new TemporalDevServer(options, log);
    // Free ports are only free until someone else binds them (other tests' sockets on this
    // machine): a server that lost one of its ports to such a race starts again on others.
    for (int attempt = 1; ; attempt++) {
      server.port = freePort();
      server.uiPort = options.ui() ? freePort() : 0;
      try {
        server.launch();
        return server;
      } catch (PortTaken e) {
        if (attempt == 5) {
          throw new IllegalStateException("the Temporal server lost its ports to other processes 5 times", e);
        }
      }
    }
  }

  /** start-dev exited because a port it was given was bound by someone else meanwhile. */
  private static final class PortTaken extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PortTaken(String message) {
      super(message);
    }
  }

  /**
   * The binary: {@code FERRY_TEMPORAL_BIN} (the {@code ferry} script exports it), else the
   * project's {@code .ferry/bin/temporal}.
   */
  public static Path binary() {
    String configured = System.getenv("FERRY_TEMPORAL_BIN");
    if (configured == null || configured.isBlank()) {
      configured = System.getProperty("ferry.temporalBin", "");
    }
    Path binary;
    if (!configured.isBlank()) {
      binary = Path.of(configured);
    } else {
      binary = repoRoot().resolve(".ferry/bin/temporal");
    }
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(
          "the Temporal server binary is missing at " + binary + ": run ./ferry test (it builds Temporal CLI "
              + "v1.5.1 with go install), ./ferry temporal-bin, or set FERRY_TEMPORAL_BIN to a temporal binary");
    }
    return binary;
  }

  private static Path repoRoot() {
    String root = System.getProperty("ferry.repoRoot");
    if (root != null && !root.isBlank()) {
      return Path.of(root).toAbsolutePath().normalize();
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("ferry"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find the repository root (no ./ferry above " + Path.of("").toAbsolutePath() + ")");
    }
    return dir;
  }

  private void launch() {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    command.addAll(List.of("server", "start-dev", "--ip", "127.0.0.1", "--port", String.valueOf(port), "--log-level", "warn"));
    // Its HTTP API and metrics ports would otherwise be picked by the server, racing the same way.
    metricsPort = freePort();
    command.addAll(List.of("--http-port", String.valueOf(freePort()), "--metrics-port", String.valueOf(metricsPort)));
    // As ./ferry and the compose file run it: a step's activity starts with the workflow task
    // that scheduled it, without a trip through matching (the write downtime is such steps).
    command.addAll(List.of("--dynamic-config-value", EAGER_ACTIVITIES));
    if (options.ui()) {
      command.addAll(List.of("--ui-port", String.valueOf(uiPort)));
      if (options.codecEndpoint() != null) {
        command.addAll(List.of("--ui-codec-endpoint", options.codecEndpoint()));
      }
    } else {
      command.add("--headless");
    }
    if (options.dbFile() != null) {
      command.addAll(List.of("--db-filename", options.dbFile().toString()));
    }
    for (String namespace : options.namespaces()) {
      command.addAll(List.of("--namespace", namespace));
    }
    if (options.searchAttributes()) {
      for (String attribute : SEARCH_ATTRIBUTES) {
        command.addAll(List.of("--search-attribute", attribute + "=Keyword"));
      }
    }
    try {
      Files.writeString(log, "--- starting " + String.join(" ", command) + "\n", java.nio.file.StandardOpenOption.APPEND);
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + command.get(0), e);
    }
    Process started = process;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "temporal-dev-server-stop"));
    awaitReady(Duration.ofSeconds(60));
  }

  /** Until the frontend answers for every namespace, or the process ends (then its log says why). */
  private void awaitReady(Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    List<String> namespaces = new ArrayList<>(options.namespaces());
    namespaces.add("default");
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(address()).setRpcTimeout(Duration.ofSeconds(2)).build());
    try {
      RuntimeException last = null;
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          String tail = tail();
          // Looked for in all this attempt printed: the panic that follows a lost port (a stack
          // trace of dozens of lines) pushes the bind error out of the tail.
          if (thisAttempt().contains("address already in use")) {
            throw new PortTaken(tail);
          }
          throw new IllegalStateException("the Temporal server exited with " + process.exitValue() + "; its log: " + tail);
        }
        try {
          for (String namespace : namespaces) {
            stubs.blockingStub().describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(namespace).build());
          }
          return;
        } catch (RuntimeException e) {
          last = e;
        }
        pause();
      }
      throw new IllegalStateException("the Temporal server at " + address() + " did not answer in " + bound + ": " + last + "; log: " + tail());
    } finally {
      stubs.shutdownNow();
    }
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** The dynamic config value every Ferry deployment runs its server with (see ./ferry). */
  public static final String EAGER_ACTIVITIES = "system.enableActivityEagerExecution=true";

  /**
   * A server counter summed over its labels, read from the server's Prometheus endpoint (0 when
   * it has counted nothing yet): for tests that check what the server did, not only the result.
   */
  public double counter(String name) {
    HttpClient http = HttpClient.newHttpClient();
    try {
      String body =
          http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
              .body();
      double sum = 0;
      for (String line : body.split("\n")) {
        if (line.startsWith(name + "{") || line.startsWith(name + " ") || line.startsWith(name + "_total")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the server's metrics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The Web UI's base URL; only with {@link Options#withUi}. */
  public String uiUrl() {
    if (uiPort == 0) {
      throw new IllegalStateException("this server runs without its UI");
    }
    return "http://127.0.0.1:" + uiPort;
  }

  /** SIGKILL, as a crash: nothing is flushed beyond what SQLite already committed. */
  public void kill() {
    process.destroyForcibly();
    waitFor();
  }

  /** Starts it again on the same ports and database file. */
  public void restart() {
    if (process.isAlive()) {
      throw new IllegalStateException("the Temporal server is still running; kill() it first");
    }
    for (int attempt = 1; ; attempt++) {
      try {
        launch();
        return;
      } catch (PortTaken e) {
        // Its HTTP or metrics port, picked anew each launch; the frontend's is the one clients know.
        if (attempt == 5) {
          throw new IllegalStateException("the Temporal server could not get its ports back", e);
        }
      }
    }
  }

  public boolean isRunning() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  private void waitFor() {
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What the server printed since this launch began (the log holds every attempt). */
  private String thisAttempt() {
    try {
      String all = Files.readString(log);
      int start = all.lastIndexOf("--- starting ");
      return start < 0 ? all : all.substring(start);
    } catch (IOException e) {
      return "";
    }
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log at " + log + ")";
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the Temporal server", e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

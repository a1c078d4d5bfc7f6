package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.temporal.TemporalDevServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./ferry dev} itself, as a user runs it (on free ports, with its state in a temporary
 * directory): three processes it supervises, one of which can die alone and is started again;
 * a stop that leaves nothing behind; and a one-line refusal, with nothing started, for each
 * way the Temporal server cannot be had.
 */
class FerryDevIT {
  static final Path ROOT = Path.of(System.getProperty("ferry.repoRoot", "..")).toAbsolutePath().normalize();

  @TempDir Path state;
  Process ferry;
  String ledgerDatabase;
  final Map<String, String> environment = new HashMap<>(System.getenv());

  @BeforeEach
  void environment() throws Exception {
    environment.put("FERRY_STATE_DIR", state.toString());
    environment.put("FERRY_TEMPORAL_BIN", TemporalDevServer.binary().toString());
    for (String port :
        List.of("FERRY_DEV_TEMPORAL_PORT", "FERRY_DEV_TEMPORAL_UI_PORT", "FERRY_DEV_TEMPORAL_HTTP_PORT",
            "FERRY_DEV_TEMPORAL_METRICS_PORT", "FERRY_API_PORT", "FERRY_ADMIN_PORT")) {
      environment.put(port, String.valueOf(freePort()));
    }
    ledgerDatabase = TestCluster.uniqueDatabaseName("ferry_ledger_dev");
    TestCluster.TARGET.createDatabase(ledgerDatabase);
    environment.put("FERRY_LEDGER_URL", TestCluster.TARGET.url(ledgerDatabase));
    environment.put("FERRY_WORKER_JAVA_OPTS", "-Xmx384m");
    environment.put("FERRY_API_JAVA_OPTS", "-Xmx384m");
  }

  @AfterEach
  void stop() throws Exception {
    if (ferry != null && ferry.isAlive()) {
      List<ProcessHandle> children = ferry.descendants().toList();
      ferry.destroyForcibly();
      children.forEach(ProcessHandle::destroyForcibly);
    }
    TestCluster.TARGET.dropDatabase(ledgerDatabase);
  }

  @Test
  void devSupervisesThreeProcesses_restartsAKilledWorker_andStopsWithoutLeavingOne() throws Exception {
    ferry = start("dev");
    awaitOutput("Ferry is up", Duration.ofSeconds(180));
    List<ProcessHandle> first = ferry.descendants().filter(ProcessHandle::isAlive).toList();
    ProcessHandle worker = only(first, "ferry-worker.jar");
    ProcessHandle api = only(first, "ferry-api.jar");
    ProcessHandle temporal = only(first, "start-dev");
    assertThat(Files.exists(state.resolve("temporal.db"))).isTrue();
    assertThat(Files.getPosixFilePermissions(state.resolve("payload.key"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));

    worker.destroyForcibly(); // SIGKILL, as a crash
    ProcessHandle second =
        waitFor("a new worker", () -> ferry.descendants().filter(p -> p.isAlive() && command(p).contains("ferry-worker.jar"))
            .filter(p -> p.pid() != worker.pid()).findFirst());
    assertThat(api.isAlive()).as("the API lives on").isTrue();
    assertThat(temporal.isAlive()).as("the server lives on").isTrue();
    assertThat(output()).contains("the worker process exited (137); starting it again");

    List<ProcessHandle> all = new ArrayList<>(ferry.descendants().toList());
    all.add(second);
    ferry.destroy(); // SIGTERM, as a service manager stops it
    assertThat(ferry.waitFor(90, TimeUnit.SECONDS)).as("./ferry dev stops").isTrue();
    for (ProcessHandle p : all) {
      assertThat(p.onExit()).as("process " + p.pid() + " (" + command(p) + ") ends").succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void aTemporalOfTheWrongVersion_isRefusedInOneLine_andNothingStarts() throws Exception {
    Path fake = state.resolve("old-temporal");
    Files.writeString(fake, "#!/bin/sh\necho 'temporal version 0.13.0 (Server 1.22.4, UI 2.21.3)'\n");
    fake.toFile().setExecutable(true);
    environment.put("FERRY_TEMPORAL_BIN", fake.toString());

    assertRefused("dev", "FERRY_TEMPORAL_BIN=" + fake + " is not a Temporal CLI bundling server >= 1.29.0");
  }

  @Test
  void aMissingTemporalBinary_isRefusedInOneLine() throws Exception {
    environment.put("FERRY_TEMPORAL_BIN", state.resolve("nothing-here").toString());

    assertRefused("dev", "is not an executable file");
  }

  @Test
  void aTakenPort_isRefusedInOneLine_andNothingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      environment.put("FERRY_API_PORT", String.valueOf(taken.getLocalPort()));

      assertRefused("dev", "port " + taken.getLocalPort() + " is in use");
    }
  }

  @Test
  void aTemporalDatabaseWrittenByANewerServer_isRefusedInOneLine_andNothingStarts() throws Exception {
    Files.writeString(state.resolve("temporal.db"), "");
    Files.writeString(state.resolve("temporal.db.server-version"), "9.1.0\n");

    assertRefused("dev", "temporal.db was written by Temporal server 9.1.0, newer than this one (1.29.1)");
  }

  /** Exit status 2, the reason on one line, and no process of its own left behind. */
  private void assertRefused(String command, String reason) throws Exception {
    ferry = start(command);
    assertThat(ferry.waitFor(180, TimeUnit.SECONDS)).as("./ferry " + command + " exits").isTrue();
    assertThat(ferry.exitValue()).as(output()).isEqualTo(2);
    assertThat(output().lines().filter(l -> l.contains("error:")).toList()).as(output()).singleElement().asString().contains(reason);
    // Whatever it had started would name its state directory (the server's --db-filename).
    assertThat(ProcessHandle.allProcesses().filter(p -> p.isAlive() && command(p).contains(state.toString())).toList())
        .as("processes left behind").isEmpty();
    assertThat(state.resolve("temporal.log")).as("no Temporal server was started").doesNotExist();
  }

  private Process start(String command) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder("bash", ROOT.resolve("ferry").toString(), command)
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(state.resolve("ferry.out").toFile());
    builder.environment().clear();
    builder.environment().putAll(environment);
    return builder.start();
  }

  private String output() {
    try {
      return Files.readString(state.resolve("ferry.out"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void awaitOutput(String line, Duration bound) {
    waitFor("\"" + line + "\" from ./ferry", () -> output().contains(line) ? Optional.of(true) : Optional.empty(), bound);
  }

  private <T> T waitFor(String what, Supplier<Optional<T>> probe) {
    return waitFor(what, probe, Duration.ofSeconds(120));
  }

  private <T> T waitFor(String what, Supplier<Optional<T>> probe, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (System.nanoTime() < deadline) {
      if (!ferry.isAlive()) {
        throw new AssertionError("./ferry exited (" + ferry.exitValue() + ") while waiting for " + what + ":\n" + output());
      }
      Optional<T> seen = probe.get();
      if (seen.isPresent()) {
        return seen.get();
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("gave up waiting for " + what + ":\n" + output());
  }

  private static ProcessHandle only(List<ProcessHandle> processes, String commandPart) {
    List<ProcessHandle> matching = processes.stream().filter(p -> command(p).contains(commandPart)).toList();
    assertThat(matching).as("processes running " + commandPart).hasSize(1);
    return matching.get(0);
  }

  private static String command(ProcessHandle p) {
    return p.info().commandLine().orElse("?");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}

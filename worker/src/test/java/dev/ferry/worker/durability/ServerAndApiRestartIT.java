package dev.ferry.worker.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.process.DatabaseState;
import dev.ferry.testing.process.IndependentComparison;
import dev.ferry.testing.process.KillFixtures;
import dev.ferry.testing.process.Leftovers;
import dev.ferry.testing.process.ProcessStack;
import dev.ferry.testing.process.RunApi;
import dev.ferry.testing.process.RunHistory;
import dev.ferry.testing.process.TestApp;
import dev.ferry.testing.process.Waiting;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other two processes of a deployment die: the Temporal server (SIGKILL, then started again
 * on the same port and SQLite file, as {@code ./ferry dev} restarts it) while one run's snapshot
 * copies and another run waits at a gate, and the API (SIGKILL, then a new API process) while a
 * run waits at a gate. Runs go on; the waiting gate still rejects at its deadline, not much
 * later; what the API showed before is still there after, and approving through the new API
 * finishes the run.
 */
class ServerAndApiRestartIT {
  /** The shortest gate timeout a runbook may set. */
  static final Duration GATE_TIMEOUT = Duration.ofMinutes(1);
  /** How late a deadline may fire and still be "at its time": a workflow task on a loaded machine. */
  static final Duration DEADLINE_SLACK = Duration.ofSeconds(15);

  @TempDir Path workDir;
  TestApp copied;
  TestApp waiting;
  ProcessStack stack;

  @BeforeEach
  // Templates are loaded once per cluster; on a busy machine that and three JVMs take minutes.
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void startStack() throws Exception {
    copied = TestApp.tricky("copied");
    waiting = TestApp.shop("waiting");
    stack = ProcessStack.start("server-api-restarts", workDir, env -> waiting.addTo(copied.addTo(env)));
    stack.startApiAndWorker();
  }

  @AfterEach
  void stopStack() throws Exception {
    if (stack != null) {
      System.out.println(stack.logTails());
      stack.close();
    }
    if (copied != null) {
      copied.close();
    }
    if (waiting != null) {
      waiting.close();
    }
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void temporalKilledMidSnapshotAndAtAGate_runsGoOn_deadlineFiresOnTime_apiKilledAtAGate_approvalAfterRestartWorks()
      throws Exception {
    RunApi runs = stack.runs();
    RunHistory history = stack.history();

    // A run that nobody approves: its start gate rejects at its deadline.
    String gated =
        runs.start(waiting.runbookHead("single-phase") + "gates: {start: {approvers: [arjun], timeout: 1m}}\n");
    JsonNode atGate = runs.awaitGate(gated, "start", Duration.ofMinutes(2));
    Instant deadline = Instant.parse(atGate.path("pendingGate").path("deadline").asText());

    // A run whose snapshot copies when the server dies.
    String copying =
        runs.start(copied.runbookHead("single-phase", "dump") + "gates: {start: {approvers: [arjun]}, decommission: {approvers: [arjun]}}\n");
    runs.awaitGate(copying, "start", Duration.ofMinutes(2));
    runs.approve(copying, "start", "restart test: go");
    String dump = DatabaseState.applicationName("ferry-dump", copying);
    String seen =
        Waiting.until(
            "the snapshot to copy " + KillFixtures.BIG_TABLE,
            () -> {
              long rows = DatabaseState.copyProgress(TestCluster.SOURCE, copied.source(), dump, KillFixtures.BIG_TABLE);
              return rows > 0 ? rows + " rows" : null;
            },
            s -> s != null,
            Duration.ofMinutes(2));
    assertThat(Instant.now()).as("the server dies before the gate's deadline").isBefore(deadline);

    stack.temporal().kill();
    Instant killed = Instant.now();
    // Down long enough for the worker to see it: its health check says Temporal does not answer.
    Waiting.until("the worker to see Temporal gone", () -> stack.workerHealth() == 503, Duration.ofSeconds(30));
    stack.temporal().restart();
    Instant restarted = Instant.now();
    Waiting.until("the worker to poll again", () -> stack.workerHealth() == 200, Duration.ofSeconds(60));
    System.out.printf(
        "server killed while the snapshot copied (%s of %s) and run %s waited at its gate; down %.1f s%n",
        seen, KillFixtures.BIG_TABLE, gated, Duration.between(killed, restarted).toMillis() / 1000.0);

    // The copy goes on to the decommission gate; there the API dies.
    JsonNode beforeKill = runs.awaitGate(copying, "decommission", Duration.ofMinutes(4));
    int eventsBefore = runs.events(copying).path("events").size();
    stack.killApi();
    assertThat(runs.status(copying)).as("no API, no answer").isEmpty();
    stack.startApi();

    JsonNode afterRestart = runs.status(copying).orElseThrow();
    assertThat(afterRestart.path("pendingGate").path("gate").asText()).isEqualTo("decommission");
    assertThat(afterRestart.path("pendingGate").path("evidenceDigest").asText())
        .isEqualTo(beforeKill.path("pendingGate").path("evidenceDigest").asText());
    assertThat(afterRestart.path("steps")).isEqualTo(beforeKill.path("steps"));
    assertThat(runs.events(copying).path("events").size()).isGreaterThanOrEqualTo(eventsBefore);
    assertThat(runs.runs("copied").path("runs").findValuesAsText("runId")).contains(copying);
    runs.approve(copying, "decommission", "restart test: approved through the new API");

    JsonNode copyDone = runs.awaitEnd(copying, Duration.ofMinutes(2));
    assertThat(copyDone.path("state").asText()).as(copyDone.toString()).isEqualTo("SUCCEEDED");
    List<RunHistory.Attempt> dumps = history.ended(copying, "DumpDatabase");
    System.out.println("the snapshot across the server's restart: " + dumps);
    assertThat(dumps).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo("completed"));
    IndependentComparison comparison = IndependentComparison.of(TestCluster.SOURCE, copied.source(), TestCluster.TARGET, copied.target());
    assertThat(comparison.differences()).as(comparison.toString()).isEmpty();
    // It succeeded without moving the traffic: the source stays frozen behind its fence.
    assertThat(Leftovers.fenced(TestCluster.SOURCE, copied.source())).isTrue();
    assertThat(Leftovers.besidesTheFence(TestCluster.SOURCE, copied.source())).isEmpty();
    assertThat(Leftovers.inDatabase(TestCluster.TARGET, copied.target())).isEmpty();
    assertThat(Leftovers.sessions(TestCluster.SOURCE, copied.source())).isEmpty();
    assertThat(Leftovers.sessions(TestCluster.TARGET, copied.target())).isEmpty();
    assertThat(Leftovers.files(workDir)).isEmpty();

    // The gate that waited through the server's death rejected at its deadline.
    JsonNode rejected = runs.awaitEnd(gated, GATE_TIMEOUT.plus(Duration.ofMinutes(1)));
    assertThat(rejected.path("state").asText()).as(rejected.toString()).isEqualTo("REJECTED");
    JsonNode decision = rejected.path("decisions").get(0);
    assertThat(decision.path("via").asText()).isEqualTo("deadline");
    Instant decidedAt = Instant.parse(decision.path("decidedAt").asText());
    System.out.printf("gate deadline %s, rejected at %s (%+.1f s)%n", deadline, decidedAt,
        Duration.between(deadline, decidedAt).toMillis() / 1000.0);
    assertThat(decidedAt).isAfterOrEqualTo(deadline).isBefore(deadline.plus(DEADLINE_SLACK));
  }
}

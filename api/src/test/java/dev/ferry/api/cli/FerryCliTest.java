package dev.ferry.api.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The ferry command line against the whole API (dev config) and a live test server. */
@ExtendWith(DropwizardExtensionsSupport.class)
class FerryCliTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void startWatchApproveStatus_driveARunToTheEnd(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML);

    Cli operator = cli("ferry-dev-operator");
    assertThat(operator.run("start", runbook.toString())).isZero();
    String runId = operator.out().strip();
    assertThat(runId).matches("migration-shop-[0-9a-f]{8}");

    Cli viewer = cli("ferry-dev-viewer");
    assertThat(viewer.run("watch", runId, "--until-gate")).isZero();
    assertThat(viewer.out()).contains("preflight", "gate:start        running  waiting for arjun or beatriz until");

    Cli approver = cli("ferry-dev-approver");
    assertThat(approver.run("approve", runId, "start", "-m", "from the cli")).isZero();
    assertThat(approver.out()).contains("gate start approved by arjun");
    assertThat(cli("ferry-dev-viewer").run("watch", runId, "--until-gate")).isZero();
    assertThat(cli("ferry-dev-approver").run("approve", runId, "decommission", "-m", "verified")).isZero();

    Cli watcher = cli("ferry-dev-viewer");
    assertThat(watcher.run("watch", runId)).isZero();
    assertThat(watcher.out()).contains("verify", runId + " SUCCEEDED", "run               [##############################] 14/14 steps");

    Cli status = cli("ferry-dev-viewer");
    assertThat(status.run("status", runId)).isZero();
    assertThat(status.out()).contains("\"state\":\"SUCCEEDED\"");
  }

  @Test
  void plan_showsTheStepsAGateAndItsApprovers_andStartsNothing(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML.replace("app: shop", "app: planned"));
    Cli viewer = cli("ferry-dev-viewer");

    assertThat(viewer.run("plan", runbook.toString())).isZero();

    assertThat(viewer.out())
        .contains("plan for planned (single-phase):", " 1. preflight", " 2. gate:start", "decided by arjun or beatriz", " 7. copy              streams every table");
    Cli runs = cli("ferry-dev-viewer");
    assertThat(runs.run("runs", "--app", "planned")).isZero();
    assertThat(runs.out()).contains("(no runs)");
  }

  @Test
  void runsEventsAndCancel_fromTheCommandLine(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML.replace("app: shop", "app: cancelled"));
    Cli operator = cli("ferry-dev-operator");
    assertThat(operator.run("start", runbook.toString(), "--idempotency-key", "cli-test-1")).isZero();
    String runId = operator.out().strip();
    Cli again = cli("ferry-dev-operator");
    assertThat(again.run("start", runbook.toString(), "--idempotency-key", "cli-test-1")).isZero();
    assertThat(again.out().strip()).isEqualTo(runId);
    cli("ferry-dev-viewer").run("watch", runId, "--until-gate");

    Cli runs = cli("ferry-dev-viewer");
    assertThat(runs.run("runs", "--app", "cancelled", "--limit", "5")).isZero();
    assertThat(runs.out()).contains(runId, "migration", "olivia");
    assertThat(cli("ferry-dev-viewer").run("runs", "--colour", "blue")).isEqualTo(2);

    Cli canceller = cli("ferry-dev-operator");
    assertThat(canceller.run("cancel", runId, "-m", "wrong night")).isZero();
    assertThat(canceller.out()).contains("cancel requested by olivia");
    Cli watcher = cli("ferry-dev-viewer");
    assertThat(watcher.run("watch", runId)).isEqualTo(1);
    assertThat(watcher.out()).contains(runId + " CANCELLED");

    Cli events = cli("ferry-dev-viewer");
    assertThat(events.run("events", runId)).isZero();
    assertThat(events.out()).contains("REQUESTED", "by olivia", "CANCEL_REQUESTED", "wrong night");
  }

  @Test
  void bars_fillInProportion() {
    assertThat(FerryCli.bar(0, 10, 10)).isEqualTo("[..........]");
    assertThat(FerryCli.bar(3, 10, 10)).isEqualTo("[###.......]");
    assertThat(FerryCli.bar(12, 10, 10)).isEqualTo("[##########]");
    assertThat(FerryCli.bar(1, 0, 4)).isEqualTo("[....]");
  }

  @Test
  void rejectedRun_watchExitsWith1() throws Exception {
    Path runbook = Files.writeString(Files.createTempFile("runbook", ".yml"), Runbooks.SHOP_YAML);
    Cli operator = cli("ferry-dev-operator");
    operator.run("start", runbook.toString());
    String runId = operator.out().strip();
    cli("ferry-dev-viewer").run("watch", runId, "--until-gate");

    assertThat(cli("ferry-dev-approver").run("reject", runId, "start")).isEqualTo(2);
    assertThat(cli("ferry-dev-approver").run("reject", runId, "start", "-m", "not tonight")).isZero();

    Cli watcher = cli("ferry-dev-viewer");
    assertThat(watcher.run("watch", runId)).isEqualTo(1);
    assertThat(watcher.out()).contains(runId + " REJECTED");
  }

  @Test
  void refusals_areExplainedWithExitCode2(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), "app: shop\nstrategy: single-phase\n");

    Cli operator = cli("ferry-dev-operator");
    assertThat(operator.run("start", runbook.toString())).isEqualTo(2);
    assertThat(operator.err()).contains("HTTP 422", "source: is required", "target: is required");

    Cli nobody = cli("wrong-token");
    assertThat(nobody.run("status", "migration-shop-00000000")).isEqualTo(2);
    assertThat(nobody.err()).contains("HTTP 401");
  }

  @Test
  void unreachableApi_saysSoWithExitCode2() {
    Cli cli = new Cli("http://127.0.0.1:1", "ferry-dev-viewer");

    assertThat(cli.run("status", "migration-shop-00000000")).isEqualTo(2);
    assertThat(cli.err()).contains("cannot reach the API at http://127.0.0.1:1");
  }

  private static Cli cli(String token) {
    return new Cli("http://127.0.0.1:" + APP.getLocalPort(), token);
  }

  /** The command line with its output captured. */
  static final class Cli {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final FerryCli cli;

    Cli(String api, String token) {
      cli =
          new FerryCli(
              api,
              token,
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8),
              Duration.ofMillis(50));
    }

    int run(String... args) {
      return cli.run(args);
    }

    String out() {
      return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }
  }
}

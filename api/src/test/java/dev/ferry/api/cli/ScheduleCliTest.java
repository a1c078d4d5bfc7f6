package dev.ferry.api.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.api.testing.TemporalCli;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
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

/**
 * {@code ferry schedules} and {@code ferry schedule ...} against the whole API as it ships (dev
 * config) on the real Temporal server, whose Schedules start the real rehearsal workflow (fake
 * databases, the test's real ledger). The first rehearsal is held in its restore, so a second
 * fire overlaps it.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ScheduleCliTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory(), true);
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @Test
  void createListTriggerPauseResumeDelete_fromTheCommandLine(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML.replace("app: shop", "app: held-cli"));

    Cli operator = cli("ferry-dev-operator");
    // 02:00 on 29 February only: it never fires by itself during this test.
    assertThat(operator.run("schedule", "create", runbook.toString(), "--cron", "0 2 29 2 *", "--timezone", "Europe/Berlin")).isZero();
    String id = operator.out().strip();
    assertThat(id).matches("schedule-held-cli-[0-9a-f]{8}");
    assertThat(operator.err()).contains("cron \"0 2 29 2 *\" Europe/Berlin", "a Temporal schedule of that id");
    assertThat(new TemporalCli(TEMPORAL.address()).run("schedule", "list")).contains(id);

    Cli list = cli("ferry-dev-viewer");
    assertThat(list.run("schedules", "--app", "held-cli")).isZero();
    assertThat(list.out()).contains(id, "ACTIVE", "cron \"0 2 29 2 *\" Europe/Berlin", "2028-02-29 01:00:00");

    TEMPORAL.databases.holdRestore();
    try {
      Cli first = cli("ferry-dev-operator");
      assertThat(first.run("schedule", "trigger", id)).isZero();
      assertThat(first.out()).contains("started rehearsal-held-cli-", "[trigger by olivia]");
      Cli second = cli("ferry-dev-operator");
      assertThat(second.run("schedule", "trigger", id)).isEqualTo(1);
      assertThat(second.out()).contains("skipped: the schedule's rehearsal rehearsal-held-cli-", "was still running (overlap policy SKIP)");

      Cli pause = cli("ferry-dev-operator");
      assertThat(pause.run("schedule", "pause", id, "-m", "freeze week")).isZero();
      assertThat(pause.out()).contains(id + " PAUSED (paused by olivia: freeze week)");

      Cli show = cli("ferry-dev-viewer");
      assertThat(show.run("schedule", "show", id)).isZero();
      assertThat(show.out())
          .contains("PAUSED", "running:  rehearsal-held-cli-", "fired:    1 started, 1 skipped", "skipped: the schedule's rehearsal")
          .contains("changes:", "PAUSED by olivia: freeze week", "TRIGGERED by olivia -> SKIPPED", "CREATED by olivia");
    } finally {
      TEMPORAL.databases.releaseRestore();
    }

    assertThat(cli("ferry-dev-operator").run("schedule", "resume", id)).isZero();
    Cli delete = cli("ferry-dev-operator");
    assertThat(delete.run("schedule", "delete", id)).isZero();
    assertThat(delete.out()).contains(id + " deleted");
    Cli after = cli("ferry-dev-viewer");
    assertThat(after.run("schedules", "--app", "held-cli")).isZero();
    assertThat(after.out()).contains("(no schedules)");
  }

  @Test
  void refusals_nameTheFieldWithExitCode2(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML);

    Cli operator = cli("ferry-dev-operator");
    assertThat(operator.run("schedule", "create", runbook.toString(), "--cron", "0 25 * * *", "--timezone", "Nowhere/Here")).isEqualTo(2);
    assertThat(operator.err()).contains("HTTP 422", "cron: ", "timezone: must be an IANA time zone");

    Cli viewer = cli("ferry-dev-viewer");
    assertThat(viewer.run("schedule", "create", runbook.toString(), "--every", "6h")).isEqualTo(2);
    assertThat(viewer.err()).contains("HTTP 403");
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

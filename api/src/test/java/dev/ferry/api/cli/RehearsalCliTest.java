package dev.ferry.api.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry rehearse}, {@code ferry rehearsals} and {@code ferry rehearsal} against the whole API and a live test server. */
@ExtendWith(DropwizardExtensionsSupport.class)
class RehearsalCliTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  static FerryCliTest.Cli cli(String token) {
    return new FerryCliTest.Cli("http://127.0.0.1:" + APP.getLocalPort(), token);
  }

  @Test
  void rehearseWatchAndReport_fromTheCommandLine(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML.replace("app: shop", "app: cli-rehearsed"));

    FerryCliTest.Cli operator = cli("ferry-dev-operator");
    assertThat(operator.run("rehearse", runbook.toString())).isZero();
    String id = operator.out().strip();
    assertThat(id).matches("rehearsal-cli-rehearsed-[0-9a-f]{8}");

    FerryCliTest.Cli watcher = cli("ferry-dev-viewer");
    assertThat(watcher.run("watch", id)).as(watcher.out() + watcher.err()).isZero();
    assertThat(watcher.out()).contains("create-scratch", "drop-scratch", id + " SUCCEEDED");

    FerryCliTest.Cli report = cli("ferry-dev-viewer");
    assertThat(report.run("rehearsal", id)).as(report.err()).isZero();
    assertThat(report.out())
        .contains(id + " (cli-rehearsed, single-phase): SUCCEEDED", "  snapshot ", "  drop-scratch ", "verification: MATCH",
            "estimated cutover downtime: ", "single-phase: freeze");

    FerryCliTest.Cli list = cli("ferry-dev-approver");
    assertThat(list.run("rehearsals", "--app", "cli-rehearsed")).as(list.err()).isZero();
    assertThat(list.out()).contains("trend of the last 1 that ran: 1 succeeded (100%)", id, "succeeded");
  }

  @Test
  void aViewerCannotRehearse_andAnUnknownReportSaysSo(@TempDir Path dir) throws Exception {
    Path runbook = Files.writeString(dir.resolve("runbook.yml"), Runbooks.SHOP_YAML);

    FerryCliTest.Cli viewer = cli("ferry-dev-viewer");
    assertThat(viewer.run("rehearse", runbook.toString())).isEqualTo(2);
    assertThat(viewer.err()).contains("HTTP 403");

    FerryCliTest.Cli unknown = cli("ferry-dev-viewer");
    assertThat(unknown.run("rehearsal", "rehearsal-shop-00000000")).isEqualTo(2);
    assertThat(unknown.err()).contains("HTTP 404", "no report for rehearsal-shop-00000000");

    FerryCliTest.Cli empty = cli("ferry-dev-viewer");
    assertThat(empty.run("rehearsals", "--app", "never-rehearsed")).isZero();
    assertThat(empty.out()).contains("(no rehearsals)");
  }
}

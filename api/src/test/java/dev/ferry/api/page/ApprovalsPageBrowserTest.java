package dev.ferry.api.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The approvals page in a real browser: Debian's Chromium, headless, driven through its
 * chromedriver by Selenium, against the whole API (dev config) and a live Temporal test server.
 * An approver enters their token, picks the run waiting at its gate, sees the evidence, clicks
 * Approve, sees the run reach its decommission gate, approves that too, and watches the run
 * move on to SUCCEEDED.
 *
 * <p>Without Chromium this test fails, so CI cannot pass without it ({@code ./ferry test}
 * installs it); FERRY_SKIP_BROWSER_TESTS=1 skips it on a developer's machine.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ApprovalsPageBrowserTest {
  // Run events go to the real ledger too, as a worker's do: a schedule's fires are read from it.
  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory(), true);
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path profile;
  WebDriver browser;

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @BeforeEach
  void startBrowser() {
    browser = HeadlessChromium.start("the approvals page's browser test", profile);
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void anApprover_entersTheirTokenOnce_approvesTheWaitingRun_andSeesItMoveOn() throws Exception {
    String runId = startRunAtGate();
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));

    browser.get(base() + "/");
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("ferry-dev-approver");
    browser.findElement(By.id("save-token")).click();

    By row = By.cssSelector("tr[data-run-id='" + runId + "']");
    wait.until(ExpectedConditions.elementToBeClickable(row)).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("gate")));
    assertThat(browser.findElement(By.id("gate-name")).getText()).isEqualTo("start");
    assertThat(browser.findElement(By.id("gate-approvers")).getText()).isEqualTo("arjun");
    assertThat(browser.findElement(By.id("evidence")).getText()).contains("source ", "PostgreSQL 15.20");
    assertThat(browser.findElement(By.id("run-state")).getText()).isEqualTo("AWAITING_APPROVAL");

    browser.findElement(By.id("comment")).sendKeys("checked the preflight in the browser");
    browser.findElement(By.id("approve")).click();

    // The copy verified, the run waits at its last gate: the page shows it, with its evidence.
    wait.until(ExpectedConditions.textToBe(By.id("gate-name"), "decommission"));
    assertThat(browser.findElement(By.id("message")).getText()).isEqualTo("Gate start approved by arjun.");
    assertThat(browser.findElement(By.id("evidence")).getText()).contains("last verification:");
    browser.findElement(By.id("comment")).clear();
    browser.findElement(By.id("comment")).sendKeys("verified");
    browser.findElement(By.id("approve")).click();

    wait.until(ExpectedConditions.textToBe(By.id("run-state"), "SUCCEEDED"));
    assertThat(browser.findElement(By.id("message")).getText()).isEqualTo("Gate decommission approved by arjun.");
    assertThat(browser.findElement(By.id("decisions")).getText())
        .contains("start: APPROVE by arjun", "checked the preflight in the browser", "decommission: APPROVE by arjun");
    assertThat(browser.findElement(By.id("gate")).isDisplayed()).isFalse();
    // The token stays in the tab: a reload needs no new one.
    browser.navigate().refresh();
    wait.until(ExpectedConditions.visibilityOfElementLocated(row));
    assertThat(browser.findElement(By.id("sign-in")).isDisplayed()).isFalse();
  }

  @Test
  void aViewer_seesTheRehearsalsWithTheirTrend_andOpensOneToSeeItsPhases() throws Exception {
    String rehearsalId = rehearsalWithReport();
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));

    browser.get(base() + "/");
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("ferry-dev-viewer");
    browser.findElement(By.id("save-token")).click();

    By row = By.cssSelector("tr[data-rehearsal-id='" + rehearsalId + "']");
    wait.until(ExpectedConditions.visibilityOfElementLocated(row));
    assertThat(browser.findElement(row).getText()).contains("page-rehearsed", "succeeded", "MATCH");
    assertThat(browser.findElement(By.id("rehearsal-trend")).getText()).contains("succeeded", "estimated downtime median");

    browser.findElement(row).click();
    wait.until(ExpectedConditions.textToBe(By.id("run-title"), rehearsalId));
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#steps tr[data-step='drop-scratch']")));
    assertThat(browser.findElement(By.id("run-state")).getText()).isEqualTo("SUCCEEDED");
    // With a run picked, the rehearsals shown are its app's.
    wait.until(ExpectedConditions.textToBe(By.id("rehearsals-app"), "of page-rehearsed"));
    assertThat(browser.findElement(By.id("rehearsal-trend")).getText())
        .startsWith("Last 1 that ran: 1 succeeded (100%); estimated downtime median ");
  }

  @Test
  void aViewer_picksARehearsalSchedule_andSeesItsRecentFires_startedAndSkippedWithWhy() throws Exception {
    String scheduleId = post("/api/schedules", "{\"runbook\": " + JSON.writeValueAsString(Runbooks.SHOP_YAML.replace("app: shop", "app: paged-held"))
        + ", \"cron\": \"0 2 29 2 *\", \"timezone\": \"Europe/Berlin\"}").path("scheduleId").asText();
    TEMPORAL.databases.holdRestore();
    try {
      JsonNode started = post("/api/schedules/" + scheduleId + "/trigger", "{}").path("fire");
      assertThat(started.path("result").asText()).isEqualTo("STARTED");
      assertThat(post("/api/schedules/" + scheduleId + "/trigger", "{}").path("fire").path("result").asText()).isEqualTo("SKIPPED");
      WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));

      browser.get(base() + "/");
      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("ferry-dev-viewer");
      browser.findElement(By.id("save-token")).click();

      By row = By.cssSelector("tr[data-schedule-id='" + scheduleId + "']");
      wait.until(ExpectedConditions.visibilityOfElementLocated(row));
      assertThat(browser.findElement(row).getText())
          .contains("paged-held", "ACTIVE", "cron \"0 2 29 2 *\" Europe/Berlin", "1 started, 1 skipped", "skipped: the schedule's rehearsal");
      browser.findElement(row).click();
      wait.until(ExpectedConditions.textToBe(By.id("schedule-title"), scheduleId));
      wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#schedule-fires li"), 2));
      String skipped = browser.findElement(By.cssSelector("#schedule-fires li[data-result='SKIPPED']")).getText();
      assertThat(skipped)
          .contains("skipped: the schedule's rehearsal " + started.path("rehearsalId").asText() + " was still running", "[trigger by olivia]");
      assertThat(browser.findElement(By.cssSelector("#schedule-fires li[data-result='STARTED']")).getText())
          .contains("started " + started.path("rehearsalId").asText(), "[trigger by olivia]");
    } finally {
      TEMPORAL.databases.releaseRestore();
    }
  }

  /** A POST through the API as the operator; its answer. */
  private JsonNode post(String path, String json) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(base() + path))
                    .header("Authorization", "Bearer ferry-dev-operator")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
    return JSON.readTree(r.body());
  }

  /** Starts a rehearsal through the API as the operator and waits for its report. */
  private String rehearsalWithReport() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> started =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/rehearsals"))
                .header("Authorization", "Bearer ferry-dev-operator")
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(Runbooks.SHOP_YAML.replace("app: shop", "app: page-rehearsed")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String id = JSON.readTree(started.body()).path("runId").asText();
    Eventually.get(
        "the rehearsal's report",
        () -> {
          try {
            return http.send(
                    HttpRequest.newBuilder(URI.create(base() + "/api/rehearsals/" + id))
                        .header("Authorization", "Bearer ferry-dev-viewer")
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        status -> status == 200);
    return id;
  }

  @Test
  void aWrongToken_isRefused_andThePageAsksAgain() {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));

    browser.get(base() + "/");
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("not-a-token");
    browser.findElement(By.id("save-token")).click();

    wait.until(ExpectedConditions.textToBe(By.id("message"), "The token was not accepted."));
    assertThat(browser.findElement(By.id("token")).isDisplayed()).isTrue();
    assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();
  }

  private String startRunAtGate() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> started =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/runs"))
                .header("Authorization", "Bearer ferry-dev-operator")
                .header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(Runbooks.SHOP_YAML.replace("approvers: [arjun, beatriz]", "approvers: [arjun]")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String runId = JSON.readTree(started.body()).path("runId").asText();
    Eventually.get(
        "the start gate",
        () -> {
          try {
            return JSON.readTree(
                http.send(
                        HttpRequest.newBuilder(URI.create(base() + "/api/runs/" + runId))
                            .header("Authorization", "Bearer ferry-dev-viewer")
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        (JsonNode s) -> "AWAITING_APPROVAL".equals(s.path("state").asText()));
    return runId;
  }

  private static String base() {
    return "http://127.0.0.1:" + APP.getLocalPort();
  }
}

package dev.ferry.api.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The Temporal UI shows a Ferry run readably: the real server's Web UI ({@code temporal server
 * start-dev --ui-codec-endpoint}, UI 2.42) in headless Chromium, a worker, and the API with its
 * codec, as {@code ./ferry dev} runs them. A user sets the UI's codec to include credentials
 * (start-dev cannot), sees the run's input still encrypted and the codec refusing, signs the
 * browser in at the API's codec page as a viewer, and sees the input decoded: references such as
 * {@code env:SHOP_SOURCE_URL}, and no ciphertext.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class TemporalUiCodecBrowserTest {
  static final int API_PORT = freePort();
  static final String CODEC = "http://127.0.0.1:" + API_PORT + "/codec";
  static final LiveTemporal TEMPORAL = LiveTemporal.start(TemporalDevServer.Options.inMemory().withUi(CODEC));
  static final DropwizardAppExtension<FerryConfiguration> APP =
      TEMPORAL.devAppOnPort(API_PORT, ConfigOverride.config("codec.allowedOrigins", TEMPORAL.uiUrl()));
  static final ObjectMapper JSON = new ObjectMapper();
  /** {@code binary/encrypted} in base64, as the UI shows a payload's metadata it could not decode. */
  static final String ENCRYPTED = "YmluYXJ5L2VuY3J5cHRlZA==";

  @TempDir Path profile;
  WebDriver browser;

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  @BeforeEach
  void startBrowser() {
    browser = HeadlessChromium.start("the Temporal UI's browser test", profile, "--window-size=1400,1000");
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void aViewerSignedInAtTheCodec_seesTheRunsInputDecodedInTheTemporalUi_referencesNotSecrets() {
    assertThat(APP.getLocalPort()).as("the API on the port the UI's codec names").isEqualTo(API_PORT);
    String runId = startRunAtGate();
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    String runPage = TEMPORAL.uiUrl() + "/namespaces/default/workflows/" + runId;
    try {
      // The UI knows the codec (--ui-codec-endpoint); the user asks it to send credentials along.
      browser.get(runPage);
      // The UI re-renders while it loads: every click finds its element again until it lands.
      clickWhenReady(wait, By.cssSelector("[data-testid^='data-encoder-status']"));
      clickWhenReady(wait, By.cssSelector("[data-testid='override-accordion'] button"));
      scriptClickWhenReady(wait, By.id("use-local-endpoint-radio"));
      WebElement endpoint = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("data-encoder-endpoint-input")));
      endpoint.clear();
      endpoint.sendKeys(CODEC);
      scriptClickWhenReady(wait, By.id("pass-access-credentials"));
      scriptClickWhenReady(wait, By.cssSelector("[data-testid='confirm-data-encoder-button']"));

      // Not signed in: the codec refuses, and the input stays ciphertext.
      browser.navigate().refresh();
      wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-testid='data-encoder-status-error']")));
      String encrypted = Eventually.get("the run's input, as ciphertext", this::pageText, t -> t.contains(ENCRYPTED));
      assertThat(encrypted).doesNotContain("env:SHOP_SOURCE_URL", "Codec Server succesfully");

      // The codec's page: a viewer's token, once.
      browser.get(CODEC);
      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys("ferry-dev-viewer");
      browser.findElement(By.id("save-token")).click();
      wait.until(ExpectedConditions.textToBe(By.id("user"), "val"));
      assertThat(browser.findElement(By.id("endpoint")).getText()).isEqualTo(CODEC);

      browser.get(runPage);
      wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-testid='data-encoder-status-success']")));
      String shown = Eventually.get("the decoded input on the run's page", this::pageText, t -> t.contains("env:SHOP_SOURCE_URL"));
      assertThat(shown)
          .contains("env:SHOP_TARGET_URL", "olivia", "shop-production")
          .doesNotContain(TEMPORAL.payloadKey())
          .doesNotContain("postgres://");
      assertThat(shown).doesNotContain(ENCRYPTED);

      // And the run is found by what it does now: its search attributes, on their tab.
      scriptClickWhenReady(wait, By.xpath("//a[normalize-space()='Search Attributes']"));
      String attributes = Eventually.get("the run's search attributes", this::pageText, t -> t.contains("FerryPhase"));
      assertThat(attributes).contains("awaiting approval: start", "FerryApp", "FerryStrategy", "single-phase");
    } catch (RuntimeException | AssertionError e) {
      saveForInspection();
      throw e;
    }
  }

  /** Clicks what {@code by} finds, finding it again when the UI replaced it meanwhile. */
  private static void clickWhenReady(WebDriverWait wait, By by) {
    wait.ignoring(StaleElementReferenceException.class)
        .until(d -> {
          WebElement element = d.findElement(by);
          if (!element.isDisplayed() || !element.isEnabled()) {
            return false;
          }
          element.click();
          return true;
        });
  }

  /** As {@link #clickWhenReady}, through a script, for elements the UI styles over. */
  private void scriptClickWhenReady(WebDriverWait wait, By by) {
    wait.ignoring(StaleElementReferenceException.class)
        .until(d -> {
          click(d.findElement(by));
          return true;
        });
  }

  /** Clicks through an element the UI styles over (a radio or a toggle's hidden input). */
  private void click(WebElement element) {
    ((JavascriptExecutor) browser).executeScript("arguments[0].click();", element);
  }

  private String pageText() {
    return (String) ((JavascriptExecutor) browser).executeScript("return document.body.innerText;");
  }

  private void saveForInspection() {
    try {
      Path dir = Files.createDirectories(Path.of("target", "browser"));
      Files.writeString(dir.resolve("temporal-ui.html"), browser.getPageSource());
      Files.writeString(dir.resolve("temporal-ui.txt"), pageText());
    } catch (IOException | RuntimeException ignored) {
      // Best effort: the assertion's own message is the failure.
    }
  }

  private String startRunAtGate() {
    HttpClient http = HttpClient.newHttpClient();
    try {
      HttpResponse<String> started =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + API_PORT + "/api/runs"))
                  .header("Authorization", "Bearer ferry-dev-operator")
                  .header("Content-Type", "application/yaml")
                  .POST(HttpRequest.BodyPublishers.ofString(Runbooks.SHOP_YAML))
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
                          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + API_PORT + "/api/runs/" + runId))
                              .header("Authorization", "Bearer ferry-dev-viewer")
                              .build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body());
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
          },
          (JsonNode s) -> "AWAITING_APPROVAL".equals(s.path("state").asText()));
      return runId;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
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

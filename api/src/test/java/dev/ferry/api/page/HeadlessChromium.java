package dev.ferry.api.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's Chromium, headless, driven by its chromedriver: what the browser tests open pages
 * in. A missing browser fails the test saying how to get it (./ferry test installs both);
 * {@code FERRY_SKIP_BROWSER_TESTS=1} skips them on a developer's machine, never in CI.
 */
final class HeadlessChromium {
  static final String CHROMIUM = System.getenv().getOrDefault("FERRY_CHROMIUM", "/usr/bin/chromium");
  static final String CHROMEDRIVER = System.getenv().getOrDefault("FERRY_CHROMEDRIVER", "/usr/bin/chromedriver");

  static {
    // Never let Selenium look for or download a browser or driver of its own.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
    System.setProperty("SE_AVOID_STATS", "true");
  }

  private HeadlessChromium() {}

  /**
   * A new browser with its own profile directory.
   *
   * @param what the test, for the skip message
   * @param extraArguments more of Chromium's flags, such as a window size
   */
  static WebDriver start(String what, Path profile, String... extraArguments) {
    Assumptions.assumeFalse(
        "1".equals(System.getenv("FERRY_SKIP_BROWSER_TESTS")), "FERRY_SKIP_BROWSER_TESTS=1: " + what + " is skipped");
    assertThat(new File(CHROMIUM))
        .as("Chromium at " + CHROMIUM + " (apt-get install chromium chromium-driver; ./ferry test does it)")
        .canRead();
    assertThat(new File(CHROMEDRIVER))
        .as("chromedriver at " + CHROMEDRIVER + " (apt-get install chromium-driver; ./ferry test does it)")
        .canRead();
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile.toAbsolutePath()));
    arguments.addAll(List.of(extraArguments));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(arguments);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }
}

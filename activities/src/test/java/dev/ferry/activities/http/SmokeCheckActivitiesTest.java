package dev.ferry.activities.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activity.SmokeCheckActivities;
import dev.ferry.model.runbook.SmokeCheckSpec;
import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeProgress;
import dev.ferry.model.smoke.SmokeProgress.UrlTally;
import dev.ferry.model.smoke.SmokeVerdict;
import dev.ferry.model.smoke.UrlEvidence;
import dev.ferry.testing.RecordingPause;
import dev.ferry.testing.http.FakeApp;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Smoke checks against a local app. The dwell is counted in rounds (dwell / interval), and the
 * pause between rounds returns at once, so no test waits on the clock.
 */
class SmokeCheckActivitiesTest {
  static final Duration INTERVAL = Duration.ofSeconds(10);
  static final Duration TWO_SECONDS = Duration.ofSeconds(2);

  FakeApp app;
  RecordingPause pause = new RecordingPause();
  TestActivityEnvironment env;
  SmokeCheckActivities smoke;

  @BeforeEach
  void start() throws Exception {
    app = new FakeApp().answer("/health", 200).answer("/api/ping", 204);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new SmokeCheckActivitiesImpl(SmokeCheckActivitiesImpl.httpClient(), INTERVAL, pause, System::nanoTime));
    smoke = env.newActivityStub(SmokeCheckActivities.class);
  }

  @AfterEach
  void stop() {
    env.close();
    app.close();
  }

  @Test
  void healthyApp_passes_withEvidenceForEveryRound() {
    SmokeVerdict verdict =
        smoke.runSmokeChecks(
            request(Duration.ofMinutes(1), 0.01, check("/health", 200), check("/api/ping", 204)));

    assertThat(verdict.passed()).isTrue();
    assertThat(verdict.rounds()).isEqualTo(6);
    assertThat(verdict.requests()).isEqualTo(12);
    assertThat(verdict.errors()).isZero();
    assertThat(verdict.urls()).extracting(UrlEvidence::requests).containsExactly(6L, 6L);
    assertThat(verdict.p95Latency()).isLessThanOrEqualTo(verdict.maxLatency());
    assertThat(verdict.summary()).startsWith("passed: 0 of 12 requests failed");
    assertThat(app.hits("/health")).isEqualTo(6);
    // Five pauses between six rounds, each at most the interval.
    assertThat(pause.waits()).hasSize(5).allSatisfy(w -> assertThat(w).isLessThanOrEqualTo(INTERVAL));
  }

  @Test
  void wrongStatuses_failTheDwell_andStopItOnceTheLimitIsPassed() {
    app.answer("/health", 200, 200, 503);

    SmokeVerdict verdict = smoke.runSmokeChecks(request(Duration.ofMinutes(5), 0.05, check("/health", 200)));

    // 30 rounds allow one error (5 %); the second error decides it.
    assertThat(verdict.passed()).isFalse();
    assertThat(verdict.stoppedEarly()).isTrue();
    assertThat(verdict.rounds()).isEqualTo(4);
    assertThat(verdict.errors()).isEqualTo(2);
    assertThat(verdict.urls().get(0).failures()).isEqualTo(Map.of("status 503", 2L));
    assertThat(verdict.summary()).startsWith("failed: 2 of 4 requests failed").contains("status 503 ×2", "stopped early");
  }

  @Test
  void errorsWithinTheThreshold_pass() {
    app.answer("/health", 500, 200);

    SmokeVerdict verdict = smoke.runSmokeChecks(request(Duration.ofMinutes(5), 0.05, check("/health", 200)));

    assertThat(verdict.passed()).isTrue();
    assertThat(verdict.errors()).isEqualTo(1);
    assertThat(verdict.requests()).isEqualTo(30);
    assertThat(verdict.errorRate()).isCloseTo(1.0 / 30, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void aRequestOverTheLatencyCeiling_isAnError() {
    app.answer("/slow", FakeApp.HANG);

    SmokeVerdict verdict =
        smoke.runSmokeChecks(
            request(INTERVAL, 0.0, check("/health", 200), new SmokeCheckSpec(app.url("/slow"), 200, Duration.ofMillis(200))));

    assertThat(verdict.passed()).isFalse();
    assertThat(verdict.urls().get(1).failures()).isEqualTo(Map.of("slower than 200ms", 1L));
    assertThat(verdict.maxLatency()).isGreaterThanOrEqualTo(Duration.ofMillis(200));
  }

  @Test
  void aRedirectIsNotFollowed_andNotHealth() {
    app.answer("/health", 302);

    SmokeVerdict verdict = smoke.runSmokeChecks(request(INTERVAL, 0.0, check("/health", 200)));

    assertThat(verdict.passed()).isFalse();
    assertThat(verdict.urls().get(0).failures()).containsOnlyKeys("status 302");
    assertThat(app.hits("/login")).isZero();
  }

  @Test
  void anAppThatIsNotListening_fails() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    SmokeVerdict verdict =
        smoke.runSmokeChecks(
            request(INTERVAL, 0.0, new SmokeCheckSpec("http://127.0.0.1:" + closedPort + "/health", 200, TWO_SECONDS)));

    assertThat(verdict.passed()).isFalse();
    assertThat(verdict.urls().get(0).failures()).containsOnlyKeys("connection refused");
  }

  @Test
  void aRetry_resumesTheDwellFromItsHeartbeat() {
    String url = app.url("/health");
    env.setHeartbeatDetails(new SmokeProgress(4, 6, List.of(new UrlTally(url, 4, 1, List.of(5L, 5L, 5L, 900L), Map.of("status 500", 1L)))));

    SmokeVerdict verdict = smoke.runSmokeChecks(request(Duration.ofMinutes(1), 0.2, check("/health", 200)));

    assertThat(app.hits("/health")).isEqualTo(2);
    assertThat(verdict.rounds()).isEqualTo(6);
    assertThat(verdict.requests()).isEqualTo(6);
    assertThat(verdict.errors()).isEqualTo(1);
    assertThat(verdict.maxLatency()).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    assertThat(verdict.passed()).isTrue();
  }

  @Test
  void percentile95_isNearestRank() {
    assertThat(SmokeCheckActivitiesImpl.percentile95(List.of())).isZero();
    assertThat(SmokeCheckActivitiesImpl.percentile95(List.of(7L))).isEqualTo(7);
    List<Long> hundred = java.util.stream.LongStream.rangeClosed(1, 100).boxed().toList();
    assertThat(SmokeCheckActivitiesImpl.percentile95(hundred)).isEqualTo(95);
  }

  private SmokeCheckSpec check(String path, int status) {
    return new SmokeCheckSpec(app.url(path), status, TWO_SECONDS);
  }

  private static SmokeCheckRequest request(Duration dwell, double maxErrorRate, SmokeCheckSpec... checks) {
    return new SmokeCheckRequest(List.of(checks), dwell, maxErrorRate);
  }
}

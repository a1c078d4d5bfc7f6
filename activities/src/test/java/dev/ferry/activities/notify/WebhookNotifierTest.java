package dev.ferry.activities.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.NotifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Notification;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook notifier against a local HTTP server standing in for Slack. */
class WebhookNotifierTest {
  private static final String TOKEN_PATH = "/services/T000/B000/s3cr3t-token";

  private HttpServer server;
  private final List<JsonNode> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger status = new AtomicInteger(200);
  private TestActivityEnvironment env;
  private NotifyActivities notifier;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      received.add(new ObjectMapper().readTree(exchange.getRequestBody()));
      exchange.sendResponseHeaders(status.get(), -1);
      exchange.close();
    });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + TOKEN_PATH;
    SecretResolver secrets = new SecretResolver(Map.of("SHOP_WEBHOOK_URL", url), () -> {
      throw new IllegalStateException("no SSM here");
    });
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(WebhookNotifier.create(secrets));
    notifier =
        env.newActivityStub(
            NotifyActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
  }

  @AfterEach
  void stop() {
    env.close();
    server.stop(0);
  }

  @Test
  void postsTheTextAndTheRunAsJson() {
    notifier.send(notification());

    assertThat(received).singleElement().satisfies(body -> {
      assertThat(body.path("text").asText()).isEqualTo("run migration-shop-1 waits at gate cutover");
      assertThat(body.path("runId").asText()).isEqualTo("migration-shop-1");
      assertThat(body.path("event").asText()).isEqualTo("gate-opened");
    });
  }

  @Test
  void webhookThatRefuses_isFinalAndKeepsTheUrlsTokenOut() {
    status.set(404);

    assertThatThrownBy(() -> notifier.send(notification()))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.NOTIFICATION_REFUSED);
          assertThat(f.isNonRetryable()).isTrue();
          assertThat(f.getOriginalMessage()).contains("env:SHOP_WEBHOOK_URL", "HTTP 404").doesNotContain("s3cr3t");
        });
  }

  @Test
  void webhookThatFails_isRetryable() {
    status.set(503);

    assertThatThrownBy(() -> notifier.send(notification()))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.NOTIFICATION_FAILED);
          assertThat(f.isNonRetryable()).isFalse();
        });
  }

  private static Notification notification() {
    return new Notification(
        "env:SHOP_WEBHOOK_URL", "migration-shop-1", "shop", "gate-opened", "run migration-shop-1 waits at gate cutover");
  }
}

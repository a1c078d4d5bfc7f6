package dev.ferry.activities.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.NotifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Notification;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Posts notifications to the runbook's webhook as JSON ({@code text} first, so a Slack incoming
 * webhook shows it). The URL may be a secret reference: such URLs carry their token in the path,
 * so a resolved URL never appears in a message or a log line.
 */
public class WebhookNotifier implements NotifyActivities {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final SecretResolver secrets;
  private final HttpClient http;

  public WebhookNotifier(SecretResolver secrets, HttpClient http) {
    this.secrets = secrets;
    this.http = http;
  }

  public static WebhookNotifier create(SecretResolver secrets) {
    return new WebhookNotifier(secrets, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build());
  }

  @Override
  public void send(Notification n) {
    boolean reference = !n.webhook().startsWith("https://");
    String url = reference ? secrets.resolve("notifications.webhook", n.webhook()) : n.webhook();
    String shown = reference ? n.webhook() : URI.create(url).getHost();
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "notifications.webhook: " + shown + " is not a URL", Errors.NOTIFICATION_FAILED);
    }
    Map<String, String> body = new LinkedHashMap<>();
    body.put("text", n.text());
    body.put("runId", n.runId());
    body.put("app", n.app());
    body.put("event", n.event());
    HttpResponse<Void> response;
    try {
      response =
          http.send(
              HttpRequest.newBuilder(uri)
                  .timeout(Duration.ofSeconds(20))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      throw ApplicationFailure.newFailure("the webhook " + shown + " did not answer: " + e.getClass().getSimpleName(), Errors.NOTIFICATION_FAILED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted", Errors.NOTIFICATION_FAILED);
    }
    int status = response.statusCode();
    if (status >= 400 && status < 500 && status != 429) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the webhook " + shown + " refused the notification (HTTP " + status + "): check the runbook's notifications.webhook",
          Errors.NOTIFICATION_REFUSED);
    }
    if (status >= 300) {
      throw ApplicationFailure.newFailure("the webhook " + shown + " answered HTTP " + status, Errors.NOTIFICATION_FAILED);
    }
  }
}

package dev.ferry.activities.heroku;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.model.Errors;
import dev.ferry.model.heroku.HerokuApp;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The Heroku Platform API (v3) over {@code java.net.http}: one {@link Session} per app and
 * resolved token. Maps Heroku's answers to failures that name the runbook field to fix, and
 * never puts the token, a request body or a config var value into a message.
 */
public class HerokuClient {
  public static final URI DEFAULT_BASE_URL = URI.create("https://api.heroku.com");
  static final String ACCEPT = "application/vnd.heroku+json; version=3";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** The longest Retry-After honoured; beyond it the retry policy's own backoff applies. */
  private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);

  private final HttpClient http;
  private final URI baseUrl;

  /** @param baseUrl {@link #DEFAULT_BASE_URL} in production; a local stand-in in tests */
  public HerokuClient(HttpClient http, URI baseUrl) {
    this.http = http;
    this.baseUrl = baseUrl;
  }

  public HerokuClient() {
    this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(), DEFAULT_BASE_URL);
  }

  /** Calls on behalf of {@code app} with a token resolved from {@code app.apiTokenRef()}. */
  public Session session(HerokuApp app, String token) {
    return new Session(app, token);
  }

  public final class Session {
    private final HerokuApp app;
    private final String token;
    private final String appPath;

    private Session(HerokuApp app, String token) {
      this.app = app;
      this.token = token;
      this.appPath = "/apps/" + URLEncoder.encode(app.app(), StandardCharsets.UTF_8);
    }

    /** {@code GET /apps/{app}}. */
    public JsonNode app() {
      return send("GET", appPath, null, "read the app");
    }

    /** {@code PATCH /apps/{app}}. */
    public JsonNode updateApp(JsonNode body) {
      return send("PATCH", appPath, body, "change the app");
    }

    /** {@code GET /apps/{app}/config-vars}. The values stay in the caller's hands. */
    public Map<String, String> configVars() {
      JsonNode vars = send("GET", appPath + "/config-vars", null, "read the config vars");
      Map<String, String> out = new LinkedHashMap<>();
      vars.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
      return out;
    }

    /** {@code GET /apps/{app}/formation}. */
    public JsonNode formation() {
      return send("GET", appPath + "/formation", null, "read the formation");
    }

    /** {@code PATCH /apps/{app}/formation} with {@code {"updates": [...]}}. */
    public JsonNode updateFormation(JsonNode body) {
      return send("PATCH", appPath + "/formation", body, "scale the formation");
    }

    private JsonNode send(String method, String path, JsonNode body, String what) {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(baseUrl.resolve(path))
              .timeout(REQUEST_TIMEOUT)
              .header("Accept", ACCEPT)
              .header("Authorization", "Bearer " + token)
              .header("User-Agent", "ferry");
      if (body == null) {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      } else {
        request
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
      }
      HttpResponse<String> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw ApplicationFailure.newFailure(
            "Heroku API: could not " + what + " of " + app.app() + ": " + scrub(String.valueOf(e)) + "; will retry",
            Errors.HEROKU_UNAVAILABLE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ApplicationFailure.newFailure("Heroku API: interrupted", Errors.HEROKU_UNAVAILABLE);
      }
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        try {
          return JSON.readTree(response.body());
        } catch (IOException e) {
          throw ApplicationFailure.newFailure(
              "Heroku API: the answer to " + method + " " + path + " is not JSON; will retry", Errors.HEROKU_UNAVAILABLE);
        }
      }
      throw failure(response, what);
    }

    private ApplicationFailure failure(HttpResponse<String> response, String what) {
      int status = response.statusCode();
      String reason = status + " " + herokuReason(response.body());
      String ref = app.apiTokenRef();
      switch (status) {
        case 401:
          return ApplicationFailure.newNonRetryableFailure(
              "heroku.apiToken: Heroku refused the token from " + ref + " (" + reason
                  + "); put a valid Platform API token there (heroku authorizations:create)",
              Errors.HEROKU_AUTH_FAILED);
        case 403:
          return ApplicationFailure.newNonRetryableFailure(
              "heroku.apiToken: the token from " + ref + " may not " + what + " of " + app.app() + " (" + reason + ")",
              Errors.HEROKU_AUTH_FAILED);
        case 404:
          return ApplicationFailure.newNonRetryableFailure(
              "source.herokuApp: Heroku has no app " + app.app() + " that the token from " + ref + " can see (" + reason + ")",
              Errors.HEROKU_APP_NOT_FOUND);
        case 429:
          Optional<Duration> after = retryAfter(response);
          return ApplicationFailure.newBuilder()
              .setMessage(
                  "Heroku API rate-limited the token from " + ref + " (" + reason + "); will retry"
                      + after.map(d -> " after " + d.toSeconds() + "s").orElse(""))
              .setType(Errors.HEROKU_UNAVAILABLE)
              .setNextRetryDelay(after.orElse(null))
              .build();
        default:
          if (status >= 500) {
            return ApplicationFailure.newFailure(
                "Heroku API: could not " + what + " of " + app.app() + " (" + reason + "); will retry",
                Errors.HEROKU_UNAVAILABLE);
          }
          return ApplicationFailure.newNonRetryableFailure(
              "Heroku API refused to " + what + " of " + app.app() + " (" + reason + ")",
              Errors.HEROKU_REQUEST_REFUSED);
      }
    }

    /** Heroku's error id and message ({@code unauthorized: Invalid credentials provided.}). */
    private String herokuReason(String body) {
      try {
        JsonNode error = JSON.readTree(body);
        String id = error.path("id").asText("");
        String message = error.path("message").asText("").replace('\n', ' ').trim();
        String reason = id.isEmpty() ? message : message.isEmpty() ? id : id + ": " + message;
        return scrub(reason.length() > 300 ? reason.substring(0, 300) + "…" : reason);
      } catch (IOException | RuntimeException e) {
        return "no error body";
      }
    }

    private String scrub(String text) {
      return token.isEmpty() ? text : text.replace(token, "[token]");
    }
  }

  /** Retry-After in seconds or as an HTTP date, capped; empty when absent or unreadable. */
  static Optional<Duration> retryAfter(HttpResponse<?> response) {
    Optional<String> header = response.headers().firstValue("Retry-After");
    if (header.isEmpty()) {
      return Optional.empty();
    }
    String value = header.get().trim();
    Duration delay;
    try {
      delay = Duration.ofSeconds(Long.parseLong(value));
    } catch (NumberFormatException e) {
      try {
        delay = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME));
      } catch (RuntimeException unreadable) {
        return Optional.empty();
      }
    }
    if (delay.isNegative() || delay.isZero()) {
      return Optional.of(Duration.ofSeconds(1));
    }
    return Optional.of(delay.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : delay);
  }
}

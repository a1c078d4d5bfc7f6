package dev.ferry.testing.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * Ferry's REST API as the operator and the approver use it, with the dev users of {@code
 * api/config/dev.yml} (operator olivia, approver arjun, viewer val). A call that does not get
 * the answer it needs fails the test with the response.
 */
public final class RunApi {
  public static final String OPERATOR = "ferry-dev-operator";
  public static final String APPROVER = "ferry-dev-approver";
  public static final String VIEWER = "ferry-dev-viewer";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final IntSupplier port;

  /** @param port the API's port now (a restarted API may listen elsewhere) */
  public RunApi(IntSupplier port) {
    this.port = port;
  }

  /** An HTTP answer; status -1 when the API could not be reached. */
  public record Response(int status, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new IllegalStateException("not JSON: " + body, e);
      }
    }
  }

  /** {@code POST /api/runs} as the operator; returns the run's id. */
  public String start(String runbookYaml) {
    Response r = send("POST", "/api/runs", OPERATOR, runbookYaml, "application/yaml");
    if (r.status() != 201) {
      throw new AssertionError("POST /api/runs answered " + r.status() + ": " + r.body());
    }
    return r.json().path("runId").asText();
  }

  /** The run's status, or empty while the API cannot give it (no worker answers, API down). */
  public Optional<JsonNode> status(String runId) {
    Response r = send("GET", "/api/runs/" + runId, VIEWER, null, null);
    return r.status() == 200 ? Optional.of(r.json()) : Optional.empty();
  }

  /** Polls the run's status until {@code done} holds; fails after {@code bound} with the last one seen. */
  public JsonNode awaitStatus(String runId, String what, Predicate<JsonNode> done, Duration bound) {
    return Waiting.until(what + " (run " + runId + ")", () -> status(runId).orElse(null), s -> s != null && done.test(s), bound);
  }

  /** Until the run waits at {@code gate}. */
  public JsonNode awaitGate(String runId, String gate, Duration bound) {
    return awaitStatus(
        runId,
        "gate " + gate,
        s -> {
          failIfEnded(s, "gate " + gate);
          return gate.equals(s.path("pendingGate").path("gate").asText());
        },
        bound);
  }

  /** Until the run has ended, whichever way. */
  public JsonNode awaitEnd(String runId, Duration bound) {
    return awaitStatus(runId, "the run to end", s -> s.path("state").asText().matches("SUCCEEDED|FAILED|REJECTED|CANCELLED"), bound);
  }

  /** A step's state in a status ({@code PENDING}, {@code RUNNING}, {@code DONE}, ...), or null. */
  public static String stepState(JsonNode status, String step) {
    for (JsonNode s : status.path("steps")) {
      if (step.equals(s.path("name").asText())) {
        return s.path("state").asText();
      }
    }
    return null;
  }

  private static void failIfEnded(JsonNode status, String waitingFor) {
    if (status.path("state").asText().matches("SUCCEEDED|FAILED|REJECTED|CANCELLED")) {
      throw new AssertionError("the run ended (" + status.path("state").asText() + ") while waiting for " + waitingFor + ": " + status);
    }
  }

  public void approve(String runId, String gate, String comment) {
    decide(runId, gate, "approve", comment);
  }

  public void reject(String runId, String gate, String comment) {
    decide(runId, gate, "reject", comment);
  }

  private void decide(String runId, String gate, String verdict, String comment) {
    String body;
    try {
      body = JSON.writeValueAsString(java.util.Map.of("comment", comment));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Response r = send("POST", "/api/runs/" + runId + "/gates/" + gate + "/" + verdict, APPROVER, body, "application/json");
    if (r.status() != 200) {
      throw new AssertionError(verdict + " of gate " + gate + " answered " + r.status() + ": " + r.body());
    }
  }

  /** {@code GET /api/runs/{id}/events}: the ledger's audit trail. */
  public JsonNode events(String runId) {
    Response r = send("GET", "/api/runs/" + runId + "/events", VIEWER, null, null);
    if (r.status() != 200) {
      throw new AssertionError("GET events answered " + r.status() + ": " + r.body());
    }
    return r.json();
  }

  /** {@code GET /api/runs?app=}: the ledger's runs of an app. */
  public JsonNode runs(String app) {
    Response r = send("GET", "/api/runs?app=" + app, VIEWER, null, null);
    if (r.status() != 200) {
      throw new AssertionError("GET runs answered " + r.status() + ": " + r.body());
    }
    return r.json();
  }

  public Response send(String method, String path, String token, String body, String contentType) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.getAsInt() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Response(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

package dev.ferry.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.testing.LiveTemporal;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import dev.ferry.api.auth.Roles;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Set;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole application as it ships: the dev configuration file (so the README's tokens are
 * tested), real Jetty, real auth, against Temporal's test server on a port, in real time, with
 * a worker running the real workflow and fake databases.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class FerryApplicationTest {
  static final LiveTemporal TEMPORAL = LiveTemporal.start();
  static final DropwizardAppExtension<FerryConfiguration> APP = TEMPORAL.devApp();

  @AfterAll
  static void stop() {
    TEMPORAL.close();
  }

  /** Endpoints anyone may call: the approvals and codec pages' static files, which hold no data. */
  static final Set<String> PUBLIC = Set.of("ApprovalsPage.index", "ApprovalsPage.asset", "CodecResource.page", "CodecResource.asset");

  @Test
  void everyRegisteredResourceMethod_requiresARole_exceptTheWhitelistedPage() {
    List<Class<?>> resources = new ArrayList<>();
    var jersey = APP.getEnvironment().jersey().getResourceConfig();
    jersey.getSingletons().stream().map(Object::getClass).forEach(resources::add);
    jersey.getClasses().forEach(resources::add);
    List<Method> endpoints =
        resources.stream()
            .filter(c -> c.isAnnotationPresent(Path.class))
            .flatMap(c -> Arrays.stream(c.getMethods()))
            .filter(m -> Arrays.stream(m.getAnnotations()).anyMatch(a -> a.annotationType().isAnnotationPresent(HttpMethod.class)))
            .toList();

    assertThat(endpoints).hasSizeGreaterThanOrEqualTo(11);
    Set<String> roles = Set.of(Roles.OPERATOR, Roles.APPROVER, Roles.VIEWER);
    for (Method m : endpoints) {
      String name = m.getDeclaringClass().getSimpleName() + "." + m.getName();
      if (PUBLIC.contains(name)) {
        assertThat(m.getDeclaringClass().getAnnotation(RolesAllowed.class)).as(name).isNull();
        continue;
      }
      RolesAllowed allowed = m.getAnnotation(RolesAllowed.class);
      if (allowed == null) {
        allowed = m.getDeclaringClass().getAnnotation(RolesAllowed.class);
      }
      assertThat(allowed).as(name + " has no @RolesAllowed").isNotNull();
      assertThat(allowed.value()).as(name).isNotEmpty();
      assertThat(roles).as(name).containsAll(Arrays.asList(allowed.value()));
      assertThat(m.getAnnotation(PermitAll.class)).as(name).isNull();
    }
  }

  @Test
  void theApprovalsPage_isServedWithoutAToken_underAStrictContentSecurityPolicy() {
    for (String path : List.of("/", "/approvals.js", "/approvals.css")) {
      try (Response r = request(path, null).get()) {
        assertThat(r.getStatus()).as(path).isEqualTo(200);
        assertThat(r.getHeaderString("Content-Security-Policy")).as(path).contains("default-src 'none'", "script-src 'self'");
        assertThat(r.getHeaderString("X-Frame-Options")).isEqualTo("DENY");
      }
    }
    for (String path : List.of("/codec", "/codec/codec.js", "/codec/codec.css")) {
      try (Response r = request(path, null).get()) {
        assertThat(r.getStatus()).as(path).isEqualTo(200);
        assertThat(r.getHeaderString("Content-Security-Policy")).as(path).contains("default-src 'none'", "script-src 'self'");
      }
    }
    try (Response r = request("/approvals.html", null).get()) {
      assertThat(r.getStatus()).isIn(401, 404);
    }
  }

  @Test
  void everyEndpointRefusesACallWithoutToken() {
    String run = "/api/runs/migration-shop-00000000";
    List<Invocation> calls =
        List.of(
            request("/api/runs", null).buildPost(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")),
            request(run, null).buildGet(),
            request(run + "/gates/start/approve", null).buildPost(Entity.json("{}")),
            request(run + "/gates/start/reject", null).buildPost(Entity.json("{\"comment\":\"x\"}")),
            request("/api/runs", null).buildGet(),
            request(run + "/events", null).buildGet(),
            request(run + "/cancel", null).buildPost(Entity.json("{}")),
            request("/api/runbooks/validate", null).buildPost(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")),
            request("/api/runbooks/plan", null).buildPost(Entity.entity(Runbooks.SHOP_YAML, "application/yaml")),
            request("/codec/decode", null).buildPost(Entity.json("{\"payloads\": []}")),
            request("/codec/encode", null).buildPost(Entity.json("{\"payloads\": []}")),
            request("/codec/session", null).buildPost(Entity.json("")),
            request("/codec/session", null).buildGet());

    assertThat(calls).allSatisfy(call -> {
      try (Response r = call.invoke()) {
        assertThat(r.getStatus()).isEqualTo(401);
        assertThat(r.getMediaType().toString()).startsWith("application/json");
      }
    });
  }

  @Test
  void devTokensFromTheReadme_startApproveAndWatchARun() {
    Response started =
        request("/api/runs", "ferry-dev-operator").post(Entity.entity(Runbooks.SHOP_YAML.replace("approvers: [arjun, beatriz]", "approvers: [arjun]"), "application/yaml"));
    assertThat(started.getStatus()).isEqualTo(201);
    String runId = started.readEntity(JsonNode.class).path("runId").asText();
    Eventually.get(
        "the start gate",
        () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
        s -> "AWAITING_APPROVAL".equals(s.path("state").asText()));

    Response approved = request("/api/runs/" + runId + "/gates/start/approve", "ferry-dev-approver").post(Entity.json("{\"comment\":\"go\"}"));

    assertThat(approved.getStatus()).isEqualTo(200);
    approved.close();
    JsonNode atDecommission =
        Eventually.get(
            "the decommission gate",
            () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
            s -> "decommission".equals(s.path("pendingGate").path("gate").asText()));
    String digest = atDecommission.path("pendingGate").path("evidenceDigest").asText();
    try (Response decommissioned =
        request("/api/runs/" + runId + "/gates/decommission/approve", "ferry-dev-approver")
            .post(Entity.json("{\"comment\":\"verified\",\"evidenceDigest\":\"" + digest + "\"}"))) {
      assertThat(decommissioned.getStatus()).isEqualTo(200);
    }
    JsonNode done =
        Eventually.get(
            "the run to succeed",
            () -> request("/api/runs/" + runId, "ferry-dev-viewer").get(JsonNode.class),
            s -> "SUCCEEDED".equals(s.path("state").asText()));
    assertThat(done.path("startedBy").asText()).isEqualTo("olivia");
    assertThat(done.path("decisions").get(0).path("decidedBy").asText()).isEqualTo("arjun");
  }

  @Test
  void aBodyOverOneMebibyte_413BeforeItIsRead() throws Exception {
    // Headers only, over a raw socket: the 413 must come on the declared length alone. (Sending
    // the body too raced the server closing the connection on the body it refuses to read.)
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", APP.getLocalPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(
          ("POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ferry-dev-operator\r\n"
                  + "Content-Type: application/yaml\r\nContent-Length: " + (2 * 1024 * 1024) + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String response = new String(socket.getInputStream().readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8);

      assertThat(response).startsWith("HTTP/1.1 413").contains("at most 1024 KiB");
    }
  }

  @Test
  void healthCheck_reportsTemporalAndTheLedgerReachable() {
    Response health =
        APP.client().target("http://127.0.0.1:" + APP.getAdminPort() + "/healthcheck").request().get();

    assertThat(health.getStatus()).isEqualTo(200);
    JsonNode body = health.readEntity(JsonNode.class);
    assertThat(body.path("temporal").path("healthy").asBoolean()).isTrue();
    assertThat(body.path("ledger").path("healthy").asBoolean()).isTrue();
  }

  @Test
  void prometheus_exposesRequestMetricsAndTemporalSdkMetrics() {
    try (Response r = request("/api/runs/migration-shop-00000000", "ferry-dev-viewer").get()) {
      assertThat(r.getStatus()).isEqualTo(404); // asked Temporal
    }

    // The SDK reports its counters every second: wait for the first report, not for a time.
    String scraped =
        Eventually.get(
            "Temporal SDK metrics in the scrape",
            () -> APP.client().target("http://127.0.0.1:" + APP.getAdminPort() + "/prometheus").request().get(String.class),
            text -> text.contains("temporal_request"));
    assertThat(scraped)
        .contains("# TYPE ")
        .contains("io_dropwizard_jetty_MutableServletContextHandler_requests")
        .contains("io_dropwizard_jetty_MutableServletContextHandler_4xx_responses")
        .contains("temporal_request_latency_seconds_bucket");
  }

  private static Invocation.Builder request(String path, String token) {
    Invocation.Builder b = APP.client().target("http://127.0.0.1:" + APP.getLocalPort() + path).request();
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }
}

package dev.ferry.testing.heroku;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for the Heroku Platform API v3 that keeps apps in memory: {@code GET/PATCH
 * /apps/{app}} (maintenance), {@code GET /apps/{app}/config-vars}, {@code GET/PATCH
 * /apps/{app}/formation}. Answers as Heroku does: 401 to a wrong token, 404 to an unknown app,
 * 429 with Retry-After or 503 when told to, 400 without the v3 Accept header.
 */
public final class FakeHeroku implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PATH = Pattern.compile("/apps/([^/]+)(/config-vars|/formation)?");

  /** One app's state. */
  public static final class App {
    volatile boolean maintenance;
    final Map<String, String> configVars = new ConcurrentHashMap<>();
    final Map<String, Integer> formation = new ConcurrentHashMap<>();

    public App configVar(String key, String value) {
      configVars.put(key, value);
      return this;
    }

    public App dynos(String type, int quantity) {
      formation.put(type, quantity);
      return this;
    }

    public App maintenance(boolean on) {
      maintenance = on;
      return this;
    }
  }

  private final HttpServer server;
  private final String token;
  private final Map<String, App> apps = new ConcurrentHashMap<>();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private volatile int rateLimited;
  private volatile String retryAfter;
  private volatile int failing;
  private volatile int failStatus;

  /** @param token the only token this Heroku accepts */
  public FakeHeroku(String token) throws IOException {
    this.token = token;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public App app(String name) {
    return apps.computeIfAbsent(name, n -> new App());
  }

  public boolean maintenance(String app) {
    return apps.get(app).maintenance;
  }

  public Map<String, Integer> formation(String app) {
    return Map.copyOf(apps.get(app).formation);
  }

  /** The next {@code count} calls answer 429, with this Retry-After (null: none). */
  public void rateLimitNext(int count, String retryAfterHeader) {
    retryAfter = retryAfterHeader;
    rateLimited = count;
  }

  /** The next {@code count} calls answer this status (503: an outage). */
  public void failNext(int count, int status) {
    failStatus = status;
    failing = count;
  }

  /** Every call, as {@code METHOD path}. */
  public List<String> calls() {
    return List.copyOf(calls);
  }

  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      calls.add(method + " " + path);
      if (!"application/vnd.heroku+json; version=3".equals(exchange.getRequestHeaders().getFirst("Accept"))) {
        error(exchange, 400, "bad_request", "Please specify a version along with Heroku's API MIME type.");
        return;
      }
      if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        error(exchange, 401, "unauthorized", "Invalid credentials provided.");
        return;
      }
      if (rateLimited > 0) {
        rateLimited--;
        if (retryAfter != null) {
          exchange.getResponseHeaders().add("Retry-After", retryAfter);
        }
        error(exchange, 429, "rate_limit", "Your account reached the API rate limit\nPlease wait a few minutes before making new requests");
        return;
      }
      if (failing > 0) {
        failing--;
        error(exchange, failStatus, "unavailable", "injected failure");
        return;
      }
      Matcher m = PATH.matcher(path);
      App app = m.matches() ? apps.get(m.group(1)) : null;
      if (app == null) {
        error(exchange, 404, "not_found", "Couldn't find that app.");
        return;
      }
      String name = m.group(1);
      String sub = m.group(2) == null ? "" : m.group(2);
      JsonNode body = method.equals("PATCH") ? JSON.readTree(exchange.getRequestBody()) : null;
      switch (method + " " + sub) {
        case "GET " -> reply(exchange, appJson(name, app));
        case "PATCH " -> {
          if (body.has("maintenance")) {
            app.maintenance = body.get("maintenance").asBoolean();
          }
          reply(exchange, appJson(name, app));
        }
        case "GET /config-vars" -> {
          ObjectNode vars = JSON.createObjectNode();
          new java.util.TreeMap<>(app.configVars).forEach(vars::put);
          reply(exchange, vars);
        }
        case "GET /formation" -> reply(exchange, formationJson(name, app, null));
        case "PATCH /formation" -> {
          Map<String, Integer> updated = new LinkedHashMap<>();
          for (JsonNode update : body.path("updates")) {
            String type = update.path("type").asText();
            if (!app.formation.containsKey(type)) {
              error(exchange, 404, "not_found", "Couldn't find that formation.");
              return;
            }
            updated.put(type, update.path("quantity").asInt());
          }
          app.formation.putAll(updated);
          reply(exchange, formationJson(name, app, updated.keySet()));
        }
        default -> error(exchange, 405, "method_not_allowed", "not implemented by this stand-in");
      }
    } catch (RuntimeException e) {
      error(exchange, 500, "internal_server_error", String.valueOf(e));
    }
  }

  private static ObjectNode appJson(String name, App app) {
    return JSON.createObjectNode()
        .put("id", "01234567-89ab-cdef-0123-456789abcdef")
        .put("name", name)
        .put("maintenance", app.maintenance)
        .put("web_url", "https://" + name + ".herokuapp.com/");
  }

  private static ArrayNode formationJson(String name, App app, java.util.Set<String> only) {
    ArrayNode list = JSON.createArrayNode();
    new java.util.TreeMap<>(app.formation).forEach((type, quantity) -> {
      if (only == null || only.contains(type)) {
        ObjectNode item = list.addObject();
        item.putObject("app").put("name", name);
        item.put("type", type).put("quantity", quantity).put("size", "standard-1X").put("command", "bin/" + type);
      }
    });
    return list;
  }

  private static void error(HttpExchange exchange, int status, String id, String message) throws IOException {
    send(exchange, status, JSON.createObjectNode().put("id", id).put("message", message));
  }

  private static void reply(HttpExchange exchange, JsonNode body) throws IOException {
    send(exchange, 200, body);
  }

  private static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

package dev.ferry.testing.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * A stand-in for SSM Parameter Store that speaks its wire protocol (AWS JSON 1.1 over HTTP,
 * {@code X-Amz-Target: AmazonSSM.<Action>}) and keeps parameters in memory, so tests drive the
 * real SDK client against it. Implements GetParameter, PutParameter (SecureString or String,
 * Overwrite honoured, empty values refused as SSM refuses them) and GetParametersByPath (paged
 * by ten, as SSM does); answers other actions with an error.
 */
public final class FakeSsm implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final Map<String, String> parameters = new ConcurrentHashMap<>();
  private final Map<String, String> types = new ConcurrentHashMap<>();
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  /** When set, every call fails with this error type and HTTP status. */
  private volatile String failWith;
  private volatile int failStatus;
  private volatile String failAction;
  private final java.util.Set<String> lost = ConcurrentHashMap.newKeySet();

  public FakeSsm() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Stores a SecureString parameter. */
  public FakeSsm put(String name, String value) {
    return put(name, value, "SecureString");
  }

  /** Stores a parameter of this type ({@code String}, {@code SecureString}). */
  public FakeSsm put(String name, String value, String type) {
    parameters.put(name, value);
    types.put(name, type);
    return this;
  }

  public FakeSsm delete(String name) {
    parameters.remove(name);
    types.remove(name);
    return this;
  }

  /** The parameter's value, or null. */
  public String value(String name) {
    return parameters.get(name);
  }

  /** The parameter's type, or null. */
  public String type(String name) {
    return types.get(name);
  }

  /** Every parameter name, sorted. */
  public List<String> names() {
    return parameters.keySet().stream().sorted().toList();
  }

  public void failEveryCall(String errorType, int status) {
    failCalls(null, errorType, status);
  }

  /** Every call of this action ({@code AmazonSSM.PutParameter}; null: all) fails so. */
  public void failCalls(String action, String errorType, int status) {
    failAction = action;
    failWith = errorType;
    failStatus = status;
  }

  /** PutParameter of this name answers success and stores nothing (a write that got lost). */
  public void losePutsOf(String name) {
    lost.add(name);
  }

  public List<JsonNode> requests() {
    return List.copyOf(requests);
  }

  /** A real SDK client pointed at this stand-in, with SDK retries off so tests stay quick. */
  public SsmClient client() {
    return SsmClient.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test-key-id", "test-secret")))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
        .build();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
    JsonNode body = JSON.readTree(exchange.getRequestBody());
    ((ObjectNode) body).put("_action", target);
    requests.add(body);
    if (failWith != null && (failAction == null || failAction.equals(target))) {
      reply(exchange, failStatus, error(failWith, "injected failure"));
      return;
    }
    switch (String.valueOf(target)) {
      case "AmazonSSM.GetParameter" -> getParameter(exchange, body);
      case "AmazonSSM.PutParameter" -> putParameter(exchange, body);
      case "AmazonSSM.GetParametersByPath" -> getParametersByPath(exchange, body);
      default -> reply(exchange, 400, error("InvalidAction", "this stand-in does not implement " + target));
    }
  }

  private void getParameter(HttpExchange exchange, JsonNode body) throws IOException {
    String name = body.path("Name").asText();
    String value = parameters.get(name);
    if (value == null) {
      reply(exchange, 400, error("ParameterNotFound", "Parameter " + name + " not found."));
      return;
    }
    ObjectNode response = JSON.createObjectNode();
    response.set("Parameter", parameter(name, body.path("WithDecryption").asBoolean()));
    reply(exchange, 200, response);
  }

  private synchronized void putParameter(HttpExchange exchange, JsonNode body) throws IOException {
    String name = body.path("Name").asText();
    String value = body.path("Value").asText("");
    if (value.isEmpty()) {
      reply(exchange, 400, error("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1"));
      return;
    }
    if (value.length() > 8192) {
      // Like SSM's validation messages, this one quotes the value: callers must not repeat it.
      reply(exchange, 400, error("ValidationException", "1 validation error detected: Value '" + value + "' at 'value' failed to satisfy constraint: Member must have length less than or equal to 8192"));
      return;
    }
    if (parameters.containsKey(name) && !body.path("Overwrite").asBoolean()) {
      reply(exchange, 400, error("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."));
      return;
    }
    if (!lost.contains(name)) {
      put(name, value, body.path("Type").asText("String"));
    }
    reply(exchange, 200, JSON.createObjectNode().put("Version", 1).put("Tier", "Standard"));
  }

  /** Pages of ten, like SSM; NextToken is the index of the next parameter. */
  private void getParametersByPath(HttpExchange exchange, JsonNode body) throws IOException {
    String path = body.path("Path").asText();
    String prefix = path.endsWith("/") ? path : path + "/";
    boolean recursive = body.path("Recursive").asBoolean();
    boolean decrypt = body.path("WithDecryption").asBoolean();
    int max = Math.min(10, body.path("MaxResults").asInt(10));
    int from = body.hasNonNull("NextToken") ? Integer.parseInt(body.get("NextToken").asText()) : 0;
    List<String> names =
        parameters.keySet().stream()
            .filter(n -> n.startsWith(prefix) && (recursive || n.indexOf('/', prefix.length()) < 0))
            .sorted()
            .toList();
    ObjectNode response = JSON.createObjectNode();
    var list = response.putArray("Parameters");
    names.stream().skip(from).limit(max).forEach(n -> list.add(parameter(n, decrypt)));
    if (from + max < names.size()) {
      response.put("NextToken", String.valueOf(from + max));
    }
    reply(exchange, 200, response);
  }

  private ObjectNode parameter(String name, boolean decrypt) {
    String type = types.getOrDefault(name, "SecureString");
    String value = "SecureString".equals(type) && !decrypt ? "AQICAHh-encrypted-blob" : parameters.get(name);
    return JSON.createObjectNode().put("Name", name).put("Type", type).put("Value", value).put("Version", 1);
  }

  private static ObjectNode error(String type, String message) {
    return JSON.createObjectNode().put("__type", type).put("message", message);
  }

  private static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

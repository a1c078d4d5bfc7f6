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
 * real SDK client against it. Implements GetParameter; answers other actions with an error.
 */
public final class FakeSsm implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final Map<String, String> parameters = new ConcurrentHashMap<>();
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  /** When set, every call fails with this error type and HTTP status. */
  private volatile String failWith;
  private volatile int failStatus;

  public FakeSsm() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public FakeSsm put(String name, String value) {
    parameters.put(name, value);
    return this;
  }

  public void failEveryCall(String errorType, int status) {
    failWith = errorType;
    failStatus = status;
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
    if (failWith != null) {
      reply(exchange, failStatus, error(failWith, "injected failure"));
      return;
    }
    if (!"AmazonSSM.GetParameter".equals(target)) {
      reply(exchange, 400, error("InvalidAction", "this stand-in only implements GetParameter"));
      return;
    }
    String name = body.path("Name").asText();
    String value = parameters.get(name);
    if (value == null) {
      reply(exchange, 400, error("ParameterNotFound", "Parameter " + name + " not found."));
      return;
    }
    ObjectNode parameter = JSON.createObjectNode();
    parameter.put("Name", name).put("Type", "SecureString").put("Value", value).put("Version", 1);
    ObjectNode response = JSON.createObjectNode();
    response.set("Parameter", parameter);
    reply(exchange, 200, response);
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

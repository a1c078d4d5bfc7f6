package dev.ferry.testing.aws;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.rds.RdsClient;

/**
 * A stand-in for RDS that speaks its Query protocol (form-encoded {@code Action=...} in, XML
 * out, API 2014-10-31) and keeps snapshots in memory: CreateDBSnapshot, and DescribeDBSnapshots
 * that answers {@code creating} a configurable number of times, then {@code available}.
 */
public final class FakeRds implements AutoCloseable {
  private static final String NS = "http://rds.amazonaws.com/doc/2014-10-31/";

  /** A snapshot as RDS holds it. */
  public static final class Snapshot {
    final String id;
    final String instanceId;
    volatile String status = "creating";
    volatile int creatingLeft;

    Snapshot(String id, String instanceId, int creatingLeft) {
      this.id = id;
      this.instanceId = instanceId;
      this.creatingLeft = creatingLeft;
    }

    public String status() {
      return status;
    }

    public String instanceId() {
      return instanceId;
    }
  }

  private final HttpServer server;
  private final Set<String> instances = ConcurrentHashMap.newKeySet();
  private final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private volatile int creatingAnswers = 0;
  private volatile int busyCreates = 0;
  private volatile String failingSnapshot;

  public FakeRds() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public FakeRds instance(String id) {
    instances.add(id);
    return this;
  }

  /** How many DescribeDBSnapshots answers say {@code creating} before {@code available}. */
  public FakeRds creatingAnswers(int count) {
    creatingAnswers = count;
    return this;
  }

  /** The next {@code count} CreateDBSnapshot calls find the instance busy (InvalidDBInstanceState). */
  public FakeRds busyFor(int count) {
    busyCreates = count;
    return this;
  }

  /** The snapshot of this name fails instead of becoming available. */
  public FakeRds failSnapshot(String id) {
    failingSnapshot = id;
    return this;
  }

  /** Puts a snapshot there, as an earlier attempt or someone else would have. */
  public FakeRds existing(String id, String instanceId, String status) {
    Snapshot s = new Snapshot(id, instanceId, 0);
    s.status = status;
    snapshots.put(id, s);
    return this;
  }

  public Map<String, Snapshot> snapshots() {
    return Map.copyOf(snapshots);
  }

  /** Every call, as its Action. */
  public List<String> calls() {
    return List.copyOf(calls);
  }

  public RdsClient client() {
    return RdsClient.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
        .region(Region.EU_WEST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test-key-id", "test-secret")))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
        .build();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      String action = form.getOrDefault("Action", "");
      calls.add(action);
      switch (action) {
        case "CreateDBSnapshot" -> create(exchange, form);
        case "DescribeDBSnapshots" -> describe(exchange, form);
        default -> error(exchange, 400, "InvalidAction", "this stand-in does not implement " + action);
      }
    } catch (RuntimeException e) {
      error(exchange, 500, "InternalFailure", String.valueOf(e));
    }
  }

  private synchronized void create(HttpExchange exchange, Map<String, String> form) throws IOException {
    String instance = form.get("DBInstanceIdentifier");
    String id = form.get("DBSnapshotIdentifier");
    if (!instances.contains(instance)) {
      error(exchange, 404, "DBInstanceNotFound", "DBInstance " + instance + " not found.");
      return;
    }
    if (busyCreates > 0) {
      busyCreates--;
      error(exchange, 400, "InvalidDBInstanceState", "Instance " + instance + " is not currently in the available state.");
      return;
    }
    if (snapshots.containsKey(id)) {
      error(exchange, 400, "DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier " + id + " already exists.");
      return;
    }
    Snapshot s = new Snapshot(id, instance, creatingAnswers);
    snapshots.put(id, s);
    reply(exchange, "CreateDBSnapshot", "<DBSnapshot>" + snapshotXml(s) + "</DBSnapshot>");
  }

  private synchronized void describe(HttpExchange exchange, Map<String, String> form) throws IOException {
    String id = form.get("DBSnapshotIdentifier");
    Snapshot s = snapshots.get(id);
    if (s == null) {
      error(exchange, 404, "DBSnapshotNotFound", "DBSnapshot " + id + " not found.");
      return;
    }
    if (s.status.equals("creating")) {
      if (s.creatingLeft > 0) {
        s.creatingLeft--;
      } else {
        s.status = id.equals(failingSnapshot) ? "failed" : "available";
      }
    }
    reply(exchange, "DescribeDBSnapshots", "<DBSnapshots><DBSnapshot>" + snapshotXml(s) + "</DBSnapshot></DBSnapshots>");
  }

  private static String snapshotXml(Snapshot s) {
    int percent = s.status.equals("available") ? 100 : s.status.equals("creating") ? 40 : 0;
    return Xml.tag("DBSnapshotIdentifier", s.id)
        + Xml.tag("DBInstanceIdentifier", s.instanceId)
        + Xml.tag("SnapshotCreateTime", "2026-11-22T12:00:00.000Z")
        + Xml.tag("Engine", "postgres")
        + Xml.tag("AllocatedStorage", 20)
        + Xml.tag("Status", s.status)
        + Xml.tag("PercentProgress", percent)
        + Xml.tag("SnapshotType", "manual");
  }

  private static Map<String, String> form(String body) {
    Map<String, String> out = new HashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static void reply(HttpExchange exchange, String action, String result) throws IOException {
    send(exchange, 200,
        "<" + action + "Response xmlns=\"" + NS + "\"><" + action + "Result>" + result + "</" + action + "Result>"
            + "<ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></" + action + "Response>");
  }

  private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
    send(exchange, status,
        "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type>" + Xml.tag("Code", code) + Xml.tag("Message", message)
            + "</Error><RequestId>fake-request</RequestId></ErrorResponse>");
  }

  private static void send(HttpExchange exchange, int status, String xml) throws IOException {
    byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "text/xml");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

package dev.ferry.testing.aws;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.w3c.dom.Element;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.route53.Route53Client;

/**
 * A stand-in for Route 53 that speaks its REST-XML protocol (API 2013-04-01) and keeps record
 * sets in memory, so tests drive the real SDK client against it and assert the weights and
 * TTLs that result. Implements ChangeResourceRecordSets (atomic batches, validated like Route 53:
 * CREATE of an existing set, DELETE of a missing or different one, simple and weighted sets
 * mixed on one name are refused), ListResourceRecordSets (in Route 53's order, paged) and
 * GetChange (PENDING a configurable number of times, then INSYNC).
 */
public final class FakeRoute53 implements AutoCloseable {
  private static final String NS = "https://route53.amazonaws.com/doc/2013-04-01/";
  private static final Pattern RRSET = Pattern.compile("/2013-04-01/hostedzone/([^/]+)/rrset/?");
  private static final Pattern CHANGE = Pattern.compile("/2013-04-01/change/([^/]+)");

  /** One record set as Route 53 holds it. {@code setIdentifier}/{@code weight} null: simple. */
  public record RecordSet(
      String name, String type, String setIdentifier, Long weight, long ttl, List<String> values, String healthCheckId) {
    public static RecordSet simple(String name, String type, long ttl, String... values) {
      return new RecordSet(fqdn(name), type, null, null, ttl, List.of(values), null);
    }

    public static RecordSet weighted(String name, String type, String setIdentifier, long weight, long ttl, String value) {
      return new RecordSet(fqdn(name), type, setIdentifier, weight, ttl, List.of(value), null);
    }

    String key() {
      return name + "|" + type + "|" + setIdentifier;
    }
  }

  /**
   * A batch as it was applied: its change id (as the SDK shows it, without {@code /change/}) and
   * its actions in order ({@code UPSERT aws}, {@code DELETE simple}).
   */
  public record AppliedBatch(String changeId, String comment, List<String> actions) {}

  private final HttpServer server;
  private final Map<String, Map<String, RecordSet>> zones = new HashMap<>();
  private final Map<String, AtomicInteger> changes = new HashMap<>();
  private final List<AppliedBatch> batches = new CopyOnWriteArrayList<>();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger ids = new AtomicInteger();
  private volatile int pendingAnswers = 0;
  private volatile int pageSize = 100;
  private volatile String failCode;
  private volatile int failStatus;
  private volatile int failCount;
  private volatile String failMethod;

  public FakeRoute53() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public synchronized FakeRoute53 zone(String zoneId) {
    zones.putIfAbsent(zoneId, new LinkedHashMap<>());
    return this;
  }

  public synchronized FakeRoute53 put(String zoneId, RecordSet set) {
    zone(zoneId);
    zones.get(zoneId).put(set.key(), set);
    return this;
  }

  /** How many times GetChange answers PENDING for each new change before INSYNC. */
  public FakeRoute53 pendingAnswers(int count) {
    pendingAnswers = count;
    return this;
  }

  /** At most this many record sets per ListResourceRecordSets page. */
  public FakeRoute53 pageSize(int size) {
    pageSize = size;
    return this;
  }

  /** The next {@code count} calls fail with this error code and status. */
  public void failNext(int count, String code, int status) {
    failNext(count, code, status, null);
  }

  /** The next {@code count} calls with this HTTP method (POST: changes) fail so. */
  public void failNext(int count, String code, int status, String method) {
    failCode = code;
    failStatus = status;
    failMethod = method;
    failCount = count;
  }

  public synchronized FakeRoute53 remove(String zoneId, String name, String type, String setIdentifier) {
    zones.get(zoneId).remove(fqdn(name) + "|" + type + "|" + setIdentifier);
    return this;
  }

  /** The record sets of a name and type, the simple one or the weighted ones by set identifier. */
  public synchronized List<RecordSet> records(String zoneId, String name, String type) {
    return zones.getOrDefault(zoneId, Map.of()).values().stream()
        .filter(s -> s.name().equals(fqdn(name)) && s.type().equals(type))
        .sorted(Comparator.comparing(s -> String.valueOf(s.setIdentifier())))
        .toList();
  }

  public List<AppliedBatch> batches() {
    return List.copyOf(batches);
  }

  /** Every call, as {@code ACTION path}. */
  public List<String> calls() {
    return List.copyOf(calls);
  }

  public Route53Client client() {
    return Route53Client.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
        .region(Region.AWS_GLOBAL)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test-key-id", "test-secret")))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
        .build();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      String path = exchange.getRequestURI().getRawPath();
      String method = exchange.getRequestMethod();
      calls.add(method + " " + path);
      if (failCount > 0 && (failMethod == null || failMethod.equals(method))) {
        failCount--;
        error(exchange, failStatus, failCode, "injected failure");
        return;
      }
      Matcher rrset = RRSET.matcher(path);
      Matcher change = CHANGE.matcher(path);
      if (rrset.matches() && method.equals("POST")) {
        changeRecordSets(exchange, decode(rrset.group(1)));
      } else if (rrset.matches() && method.equals("GET")) {
        listRecordSets(exchange, decode(rrset.group(1)));
      } else if (change.matches() && method.equals("GET")) {
        getChange(exchange, decode(change.group(1)));
      } else {
        error(exchange, 400, "InvalidAction", "this stand-in does not implement " + method + " " + path);
      }
    } catch (RuntimeException e) {
      error(exchange, 500, "InternalFailure", String.valueOf(e));
    }
  }

  private synchronized void changeRecordSets(HttpExchange exchange, String zoneId) throws IOException {
    Map<String, RecordSet> zone = zones.get(zoneId);
    Element root = Xml.parse(exchange.getRequestBody());
    if (zone == null) {
      error(exchange, 404, "NoSuchHostedZone", "No hosted zone found with ID: " + zoneId);
      return;
    }
    Element batch = Xml.child(root, "ChangeBatch");
    Map<String, RecordSet> next = new LinkedHashMap<>(zone);
    List<String> actions = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Element change : Xml.children(Xml.child(batch, "Changes"), "Change")) {
      String action = Xml.text(change, "Action");
      RecordSet set = recordSet(Xml.child(change, "ResourceRecordSet"));
      actions.add(action + " " + (set.setIdentifier() == null ? "simple" : set.setIdentifier()));
      String describe =
          "[name='" + set.name() + "', type='" + set.type() + "'"
              + (set.setIdentifier() == null ? "" : ", set-identifier='" + set.setIdentifier() + "'") + "]";
      RecordSet existing = next.get(set.key());
      switch (action) {
        case "CREATE" -> {
          if (existing != null) {
            problems.add("Tried to create resource record set " + describe + " but it already exists");
          }
          next.put(set.key(), set);
        }
        case "DELETE" -> {
          if (existing == null) {
            problems.add("Tried to delete resource record set " + describe + " but it was not found");
          } else if (!existing.equals(set)) {
            problems.add("Tried to delete resource record set " + describe + " but the values provided do not match the current values");
          }
          next.remove(set.key());
        }
        case "UPSERT" -> next.put(set.key(), set);
        default -> problems.add("Unknown action " + action);
      }
      if (set.setIdentifier() != null && (set.weight() == null || set.weight() < 0 || set.weight() > 255)) {
        problems.add("Invalid weight for " + describe);
      }
    }
    // Route 53 does not let a simple record share its name and type with weighted ones.
    Map<String, List<RecordSet>> byName = new HashMap<>();
    next.values().forEach(s -> byName.computeIfAbsent(s.name() + "|" + s.type(), k -> new ArrayList<>()).add(s));
    byName.values().forEach(sets -> {
      boolean simple = sets.stream().anyMatch(s -> s.setIdentifier() == null);
      if (simple && sets.size() > 1) {
        problems.add("RRSet of type " + sets.get(0).type() + " with DNS name " + sets.get(0).name()
            + " is not permitted because a conflicting RRSet of type " + sets.get(0).type() + " with the same DNS name already exists");
      }
    });
    if (!problems.isEmpty()) {
      error(exchange, 400, "InvalidChangeBatch", String.join("; ", problems));
      return;
    }
    zone.clear();
    zone.putAll(next);
    String id = "C" + String.format("%012d", ids.incrementAndGet());
    changes.put(id, new AtomicInteger(pendingAnswers));
    batches.add(new AppliedBatch(id, Xml.text(batch, "Comment"), actions));
    reply(exchange, 200, "ChangeResourceRecordSetsResponse", changeInfo(id, false));
  }

  private synchronized void listRecordSets(HttpExchange exchange, String zoneId) throws IOException {
    Map<String, RecordSet> zone = zones.get(zoneId);
    if (zone == null) {
      error(exchange, 404, "NoSuchHostedZone", "No hosted zone found with ID: " + zoneId);
      return;
    }
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    String startName = query.get("name") == null ? null : fqdn(query.get("name"));
    String startType = query.get("type");
    String startId = query.get("identifier");
    int max = Math.min(pageSize, Integer.parseInt(query.getOrDefault("maxitems", "300")));
    Comparator<RecordSet> order =
        Comparator.comparing((RecordSet s) -> reversed(s.name()))
            .thenComparing(RecordSet::type)
            .thenComparing(s -> s.setIdentifier() == null ? "" : s.setIdentifier());
    List<RecordSet> sorted = zone.values().stream().sorted(order).toList();
    List<RecordSet> from = new ArrayList<>();
    for (RecordSet s : sorted) {
      if (startName != null) {
        int c = reversed(s.name()).compareTo(reversed(startName));
        if (c < 0) {
          continue;
        }
        if (c == 0 && startType != null) {
          int t = s.type().compareTo(startType);
          if (t < 0) {
            continue;
          }
          if (t == 0 && startId != null && (s.setIdentifier() == null ? "" : s.setIdentifier()).compareTo(startId) < 0) {
            continue;
          }
        }
      }
      from.add(s);
    }
    StringBuilder body = new StringBuilder("<ResourceRecordSets>");
    from.stream().limit(max).forEach(s -> body.append(recordSetXml(s)));
    body.append("</ResourceRecordSets>");
    boolean truncated = from.size() > max;
    body.append(Xml.tag("IsTruncated", truncated));
    if (truncated) {
      RecordSet next = from.get(max);
      body.append(Xml.tag("NextRecordName", next.name()))
          .append(Xml.tag("NextRecordType", next.type()))
          .append(Xml.tag("NextRecordIdentifier", next.setIdentifier()));
    }
    body.append(Xml.tag("MaxItems", max));
    reply(exchange, 200, "ListResourceRecordSetsResponse", body.toString());
  }

  private synchronized void getChange(HttpExchange exchange, String id) throws IOException {
    AtomicInteger left = changes.get(id);
    if (left == null) {
      error(exchange, 404, "NoSuchChange", "A change with the specified change ID does not exist.");
      return;
    }
    reply(exchange, 200, "GetChangeResponse", changeInfo(id, true));
  }

  /** @param poll whether this is a GetChange answer, which uses up one PENDING */
  private String changeInfo(String id, boolean poll) {
    AtomicInteger left = changes.get(id);
    String status = left.get() > 0 ? "PENDING" : "INSYNC";
    if (poll && left.get() > 0) {
      left.decrementAndGet();
    }
    return "<ChangeInfo>" + Xml.tag("Id", "/change/" + id) + Xml.tag("Status", status)
        + Xml.tag("SubmittedAt", Instant.parse("2026-11-22T12:00:00Z")) + "</ChangeInfo>";
  }

  private static RecordSet recordSet(Element e) {
    List<String> values = new ArrayList<>();
    for (Element r : Xml.children(Xml.child(e, "ResourceRecords"), "ResourceRecord")) {
      values.add(Xml.text(r, "Value"));
    }
    String weight = Xml.text(e, "Weight");
    String ttl = Xml.text(e, "TTL");
    return new RecordSet(
        fqdn(Xml.text(e, "Name")),
        Xml.text(e, "Type"),
        Xml.text(e, "SetIdentifier"),
        weight == null ? null : Long.parseLong(weight),
        ttl == null ? 0 : Long.parseLong(ttl),
        List.copyOf(values),
        Xml.text(e, "HealthCheckId"));
  }

  private static String recordSetXml(RecordSet s) {
    StringBuilder out = new StringBuilder("<ResourceRecordSet>");
    out.append(Xml.tag("Name", s.name()))
        .append(Xml.tag("Type", s.type()))
        .append(Xml.tag("SetIdentifier", s.setIdentifier()))
        .append(Xml.tag("Weight", s.weight()))
        .append(Xml.tag("TTL", s.ttl()))
        .append("<ResourceRecords>");
    s.values().forEach(v -> out.append("<ResourceRecord>").append(Xml.tag("Value", v)).append("</ResourceRecord>"));
    out.append("</ResourceRecords>").append(Xml.tag("HealthCheckId", s.healthCheckId())).append("</ResourceRecordSet>");
    return out.toString();
  }

  private static String reversed(String name) {
    List<String> labels = new ArrayList<>(List.of(name.replaceFirst("\\.$", "").split("\\.")));
    java.util.Collections.reverse(labels);
    return String.join(".", labels);
  }

  static String fqdn(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.endsWith(".") ? lower : lower + ".";
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8).replaceFirst("^/?hostedzone/", "");
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(decode(pair.substring(0, eq)), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static void reply(HttpExchange exchange, int status, String root, String inner) throws IOException {
    send(exchange, status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><" + root + " xmlns=\"" + NS + "\">" + inner + "</" + root + ">");
  }

  private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
    send(exchange, status,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type>"
            + Xml.tag("Code", code) + Xml.tag("Message", message) + "</Error><RequestId>fake-request</RequestId></ErrorResponse>");
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

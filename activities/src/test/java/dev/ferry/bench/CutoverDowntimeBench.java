package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.postgres.PgUrl;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The write downtime of a multi-phase cutover as the app feels it: a real run through the API,
 * the worker and the Temporal server ({@code ./ferry dev}'s stack, which {@code
 * bench/cutover-downtime.sh} starts), with an app writing to the source through the cutover. The
 * clock runs from the app's first refused write on the source to its first write accepted on the
 * target, once the run's status says the target is final (the step {@code verify} done: without
 * a {@code dns} section Ferry does not move the traffic, the app switches itself).
 *
 * <p>The app inserts one row a write into {@code bench_app} ({@code origin} 'source' or
 * 'target'), at {@code --app-rate} writes a second, retrying every 5 ms while refused. Every row
 * it saw committed on the source must be on the target afterwards.
 *
 * <p>Arguments: {@code --api URL --method trigger|logical --steady S --app-rate N --app NAME}.
 * Databases: {@code BENCH_SOURCE_URL}, {@code BENCH_TARGET_URL} (the worker resolves
 * the same variables). Prints {@code name value} lines. Started by the script; never by surefire
 * (its name matches no test pattern).
 */
public final class CutoverDowntimeBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String OPERATOR = "ferry-dev-operator";
  private static final String APPROVER = "ferry-dev-approver";
  private static final String VIEWER = "ferry-dev-viewer";

  private final String api;

  private CutoverDowntimeBench(String api) {
    this.api = api;
  }

  public static void main(String[] args) {
    int status = 1;
    try {
      run(args);
      status = 0;
    } catch (Exception e) {
      e.printStackTrace();
    }
    System.exit(status);
  }

  private static void run(String[] args) throws Exception {
    String api = null;
    String method = "trigger";
    String app = "bench";
    int steady = 30;
    int appRate = 100;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--api" -> api = args[i + 1];
        case "--method" -> method = args[i + 1];
        case "--steady" -> steady = Integer.parseInt(args[i + 1]);
        case "--app-rate" -> appRate = Integer.parseInt(args[i + 1]);
        case "--app" -> app = args[i + 1];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (api == null) {
      throw new IllegalArgumentException("usage: --api URL [--method M] [--steady S] [--app-rate N] [--app NAME]");
    }
    PgUrl source = PgUrl.parse(System.getenv("BENCH_SOURCE_URL"));
    PgUrl target = PgUrl.parse(System.getenv("BENCH_TARGET_URL"));
    new CutoverDowntimeBench(api).cutOver(source, target, method, app, steady, appRate);
  }

  private void cutOver(PgUrl source, PgUrl target, String method, String app, int steady, int appRate) throws Exception {
    String runbook =
        """
        app: %s
        strategy: multi-phase
        source:
          databaseUrl: env:BENCH_SOURCE_URL
        target:
          databaseUrl: env:BENCH_TARGET_URL
        snapshot:
          jobs: 2
        sync:
          method: %s
          maxLag: 30s
        fallbackWindow: 1s
        gates:
          start: {approvers: [arjun]}
          cutover: {approvers: [arjun]}
          decommission: {approvers: [arjun]}
        """.formatted(app, method);
    AppWriter writer = new AppWriter(source, target, appRate);
    Thread appThread = new Thread(writer, "bench-app");
    appThread.start();
    try {
      long t0 = System.nanoTime();
      JsonNode started = JSON.readTree(send("POST", "/api/runs", OPERATOR, runbook, "application/yaml", 201));
      String runId = started.path("runId").asText();
      System.err.println("run " + runId);
      System.out.println("# run " + runId);
      decide(runId, "start");
      JsonNode atCutover = awaitGate(runId, "cutover", Duration.ofHours(6));
      print("run.to-cutover-gate.seconds", (System.nanoTime() - t0) / 1e9);
      printStep(atCutover, "start-sync");
      printStep(atCutover, "catch-up");
      printStep(atCutover, "pre-verify");
      for (JsonNode line : atCutover.path("pendingGate").path("evidence")) {
        System.out.println("# gate: " + line.asText());
      }
      Thread.sleep(Duration.ofSeconds(steady).toMillis());

      decide(runId, "cutover");
      long approved = System.nanoTime();
      JsonNode status;
      while (true) {
        status = status(runId);
        String state = status.path("state").asText();
        if (state.matches("FAILED|REJECTED|CANCELLED")) {
          throw new IllegalStateException("the run ended " + state + ": " + status.path("failure").asText());
        }
        if ("DONE".equals(step(status, "verify").path("state").asText())) {
          writer.switchToTarget();
          break;
        }
        Thread.sleep(25);
      }
      long finalSeen = System.nanoTime();
      writer.awaitAcceptedOnTarget(Duration.ofMinutes(2));
      Thread.sleep(1000); // a few more writes on the target
      writer.stop();
      appThread.join();

      print("app.downtime.seconds", (writer.firstAccepted.get() - writer.firstRefused.get()) / 1e9);
      print("app.refused-to-final-seen.seconds", (finalSeen - writer.firstRefused.get()) / 1e9);
      print("app.approve-to-refused.seconds", (writer.firstRefused.get() - approved) / 1e9);
      for (String step : new String[] {"gate:cutover", "freeze-source", "drain", "sync-sequences", "verify"}) {
        printStep(status, step);
      }
      Instant frozeAt = Instant.parse(step(status, "freeze-source").path("startedAt").asText());
      Instant verifiedAt = Instant.parse(step(status, "verify").path("endedAt").asText());
      print("run.freeze-to-verified.seconds", Duration.between(frozeAt, verifiedAt).toMillis() / 1000.0);
      System.out.println("# verify: " + step(status, "verify").path("detail").asText());

      JsonNode decommission = awaitGate(runId, "decommission", Duration.ofMinutes(10));
      decide(runId, "decommission");
      JsonNode done = awaitEnd(runId);
      if (!"SUCCEEDED".equals(done.path("state").asText())) {
        throw new IllegalStateException("the run ended " + done.path("state").asText() + ": " + done.path("failure").asText());
      }
      print("app.writes.committed-on-source", writer.committedOnSource.get());
      print("app.writes.accepted-on-target", writer.acceptedOnTarget.get());
      long sourceRows = count(source, "SELECT count(*) FROM bench_app WHERE origin = 'source'");
      long carried = count(target, "SELECT count(*) FROM bench_app WHERE origin = 'source'");
      print("app.rows.on-source", sourceRows);
      print("app.rows.carried-to-target", carried);
      print("app.lost", sourceRows - carried);
      if (carried != sourceRows || writer.committedOnSource.get() > sourceRows || decommission == null) {
        throw new IllegalStateException("rows lost: source " + sourceRows + ", target " + carried);
      }
    } finally {
      writer.stop();
      appThread.join(5_000);
    }
  }

  /** The app: writes at a steady rate, to the source until told the target is final, then to the target. */
  private static final class AppWriter implements Runnable {
    private final PgUrl source;
    private final PgUrl target;
    private final long intervalNanos;
    private volatile boolean toTarget;
    private volatile boolean stopped;
    final AtomicLong firstRefused = new AtomicLong(-1);
    final AtomicLong firstAccepted = new AtomicLong(-1);
    final AtomicLong committedOnSource = new AtomicLong();
    final AtomicLong acceptedOnTarget = new AtomicLong();

    AppWriter(PgUrl source, PgUrl target, int rate) {
      this.source = source;
      this.target = target;
      this.intervalNanos = 1_000_000_000L / Math.max(1, rate);
    }

    void switchToTarget() {
      toTarget = true;
    }

    void stop() {
      stopped = true;
    }

    void awaitAcceptedOnTarget(Duration bound) throws InterruptedException {
      long deadline = System.nanoTime() + bound.toNanos();
      while (firstAccepted.get() < 0) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the app could not write to the target");
        }
        Thread.sleep(5);
      }
    }

    @Override
    public void run() {
      Connection c = null;
      boolean onTarget = false;
      long next = System.nanoTime();
      while (!stopped) {
        boolean wantTarget = toTarget;
        if (wantTarget != onTarget) {
          close(c);
          c = null;
          onTarget = wantTarget;
        }
        long attempt = System.nanoTime();
        boolean refused = false;
        try {
          if (c == null) {
            PgUrl url = onTarget ? target : source;
            c = DriverManager.getConnection(url.jdbcUrl(), url.jdbcProperties("bench-app"));
          }
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_app (origin, note) VALUES (?, ?)")) {
            ps.setString(1, onTarget ? "target" : "source");
            ps.setString(2, "write at " + attempt);
            ps.executeUpdate();
          }
          if (onTarget) {
            firstAccepted.compareAndSet(-1, System.nanoTime());
            acceptedOnTarget.incrementAndGet();
          } else {
            committedOnSource.incrementAndGet();
          }
        } catch (SQLException e) {
          refused = true;
          if (!onTarget) {
            firstRefused.compareAndSet(-1, attempt);
          }
          String state = e.getSQLState() == null ? "" : e.getSQLState();
          if (!state.equals("25006")) {
            // The freeze ended the session (or the server is gone): connect again next time.
            close(c);
            c = null;
          }
        }
        // Refused: try again soon, as an app's retry would. Otherwise keep the rate.
        next = refused ? System.nanoTime() + 5_000_000L : Math.max(next + intervalNanos, System.nanoTime());
        long wait = next - System.nanoTime();
        if (wait > 0) {
          try {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      close(c);
    }

    private static void close(Connection c) {
      if (c != null) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // Gone already.
        }
      }
    }
  }

  // ---- the API ---------------------------------------------------------------------------------

  private void decide(String runId, String gate) throws Exception {
    awaitGate(runId, gate, Duration.ofHours(6));
    send("POST", "/api/runs/" + runId + "/gates/" + gate + "/approve", APPROVER, "{\"comment\":\"bench\"}", "application/json", 200);
  }

  private JsonNode awaitGate(String runId, String gate, Duration bound) throws Exception {
    long deadline = System.nanoTime() + bound.toNanos();
    while (true) {
      JsonNode s = status(runId);
      if (gate.equals(s.path("pendingGate").path("gate").asText())) {
        return s;
      }
      if (s.path("state").asText().matches("FAILED|REJECTED|CANCELLED|SUCCEEDED")) {
        throw new IllegalStateException("the run ended " + s.path("state").asText() + " before gate " + gate + ": " + s.path("failure").asText());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no gate " + gate + " after " + bound);
      }
      Thread.sleep(200);
    }
  }

  private JsonNode awaitEnd(String runId) throws Exception {
    while (true) {
      JsonNode s = status(runId);
      if (s.path("state").asText().matches("FAILED|REJECTED|CANCELLED|SUCCEEDED")) {
        return s;
      }
      Thread.sleep(200);
    }
  }

  private JsonNode status(String runId) throws Exception {
    return JSON.readTree(send("GET", "/api/runs/" + runId, VIEWER, null, null, 200));
  }

  private String send(String method, String path, String token, String body, String type, int expected) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).header("Authorization", "Bearer " + token);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != expected) {
      throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  private static JsonNode step(JsonNode status, String name) {
    for (JsonNode s : status.path("steps")) {
      if (name.equals(s.path("name").asText())) {
        return s;
      }
    }
    return JSON.missingNode();
  }

  private static void printStep(JsonNode status, String name) {
    JsonNode s = step(status, name);
    if (s.path("durationMillis").isNumber()) {
      print("step." + name + ".seconds", s.path("durationMillis").asLong() / 1000.0);
    }
    if (!s.path("detail").isMissingNode() && !s.path("detail").isNull()) {
      System.out.println("# " + name + ": " + s.path("detail").asText());
    }
  }

  private static long count(PgUrl url, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.jdbcProperties("bench-check"));
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void print(String name, double value) {
    System.out.printf(Locale.ROOT, "%s %.3f%n", name, value);
  }

  private static void print(String name, long value) {
    System.out.printf(Locale.ROOT, "%s %d%n", name, value);
  }
}

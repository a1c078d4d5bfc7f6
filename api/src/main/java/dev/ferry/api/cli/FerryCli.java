package dev.ferry.api.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ferry.api.auth.TokenHash;
import dev.ferry.model.ByteSize;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code ferry} command line: talks to the API at {@code FERRY_API} (default {@code
 * http://127.0.0.1:8080}) with the bearer token in {@code FERRY_TOKEN}.
 *
 * <pre>
 * ferry plan RUNBOOK.yml           what a run would do, step by step; nothing starts
 * ferry start RUNBOOK.yml [--idempotency-key KEY]   start a run; prints its id
 * ferry runs [--state S] [--app A] [--kind K] [--phase P] [--limit N]   runs from the ledger, newest first
 * ferry events RUN                 the run's audit trail
 * ferry status RUN [--pretty]      the run's status as JSON
 * ferry watch RUN [--until-gate]   follow a run's steps and progress until it ends (or waits at a gate)
 * ferry approve RUN GATE [-m TEXT] approve a gate
 * ferry reject RUN GATE -m TEXT    reject a gate, saying why
 * ferry cancel RUN [-m REASON]     cancel a run: it rolls back, then ends CANCELLED
 * ferry schedules [--app A]        rehearsal schedules (Temporal schedules, same ids): state, timing, next fire, last fire
 * ferry schedule create RUNBOOK.yml (--cron "0 2 * * *" [--timezone TZ] | --every 6h) [--reuse-snapshot]
 * ferry schedule show|pause|resume|trigger|delete ID [-m NOTE]
 *                                  show: recent fires (started which rehearsal, or skipped and why) and changes;
 *                                  trigger: fires now and says what the fire did
 * ferry rehearse RUNBOOK.yml [--reuse-snapshot] [--idempotency-key KEY]   start a rehearsal now; prints its id
 * ferry rehearsals [--app A] [--limit N]   rehearsal reports, newest first, and their trend
 * ferry rehearsal ID               one rehearsal's report: phases, durations, estimated downtime
 * ferry wait-ready [SECONDS]       wait until the API answers
 * ferry hash-token                 read a token on stdin, print the SHA-256 the API config wants
 * </pre>
 *
 * Exit codes: 0 done (or the run succeeded), 1 the run failed, was rejected or cancelled (or a
 * triggered schedule started nothing), 2 a usage or API error.
 */
public final class FerryCli {
  static final int OK = 0;
  static final int RUN_DID_NOT_SUCCEED = 1;
  static final int ERROR = 2;
  private static final Set<String> FINAL_STATES = Set.of("SUCCEEDED", "FAILED", "REJECTED", "CANCELLED");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String api;
  private final String token;
  private final PrintStream out;
  private final PrintStream err;
  private final Duration pollEvery;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public FerryCli(String api, String token, PrintStream out, PrintStream err, Duration pollEvery) {
    this.api = api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
    this.token = token;
    this.out = out;
    this.err = err;
    this.pollEvery = pollEvery;
  }

  public static void main(String[] args) {
    String api = System.getenv().getOrDefault("FERRY_API", "http://127.0.0.1:8080");
    String token = System.getenv("FERRY_TOKEN");
    System.exit(new FerryCli(api, token, System.out, System.err, Duration.ofSeconds(1)).run(args));
  }

  public int run(String... args) {
    if (args.length == 0) {
      return usage("no command");
    }
    List<String> rest = List.of(args).subList(1, args.length);
    try {
      return switch (args[0]) {
        case "plan" -> plan(rest);
        case "start" -> start(rest);
        case "runs" -> runs(rest);
        case "events" -> events(rest);
        case "cancel" -> cancel(rest);
        case "status" -> status(rest);
        case "watch" -> watch(rest);
        case "approve" -> decide(rest, "approve");
        case "reject" -> decide(rest, "reject");
        case "schedules" -> schedules(rest);
        case "schedule" -> schedule(rest);
        case "rehearse" -> rehearse(rest);
        case "rehearsals" -> rehearsals(rest);
        case "rehearsal" -> rehearsal(rest);
        case "wait-ready" -> waitReady(rest);
        case "hash-token" -> hashToken();
        default -> usage("unknown command " + args[0]);
      };
    } catch (ApiError e) {
      err.println("ferry: " + e.getMessage());
      return ERROR;
    } catch (IOException e) {
      err.println("ferry: " + describe(e));
      return ERROR;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ERROR;
    }
  }

  private int plan(List<String> args) throws IOException, InterruptedException {
    if (args.size() != 1) {
      return usage("plan needs a runbook file");
    }
    JsonNode plan = send("POST", "/api/runbooks/plan", readRunbook(args.get(0)), "application/yaml");
    out.println("plan for " + plan.path("app").asText() + " (" + plan.path("strategy").asText() + "):");
    for (JsonNode step : plan.path("steps")) {
      String what = step.path("reason").asText();
      if (step.path("gate").asBoolean()) {
        List<String> approvers = new ArrayList<>();
        step.path("approvers").forEach(a -> approvers.add(a.asText()));
        what += "; decided by " + (approvers.isEmpty() ? "anyone with the approver role" : String.join(" or ", approvers));
      }
      out.printf("%2d. %-17s %s%s%n", step.path("number").asInt(), step.path("name").asText(), step.path("skipped").asBoolean() ? "SKIPPED: " : "", what);
    }
    return OK;
  }

  private String readRunbook(String file) throws IOException {
    try {
      return Files.readString(Path.of(file));
    } catch (NoSuchFileException e) {
      throw new ApiError("no runbook file " + file);
    }
  }

  private int start(List<String> args) throws IOException, InterruptedException {
    String key = null;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--idempotency-key") && i + 1 < args.size()) {
        key = args.get(++i);
      } else {
        files.add(args.get(i));
      }
    }
    if (files.size() != 1) {
      return usage("start needs a runbook file");
    }
    JsonNode created = send("POST", "/api/runs", readRunbook(files.get(0)), "application/yaml", key);
    out.println(created.path("runId").asText());
    err.println("started " + created.path("runId").asText() + "; follow it with: ferry watch " + created.path("runId").asText());
    return OK;
  }

  private int status(List<String> args) throws IOException, InterruptedException {
    if (args.isEmpty()) {
      return usage("status needs a run id");
    }
    JsonNode status = send("GET", "/api/runs/" + args.get(0), null, null);
    out.println(
        args.contains("--pretty")
            ? JSON.writerWithDefaultPrettyPrinter().writeValueAsString(status)
            : JSON.writeValueAsString(status));
    return OK;
  }

  private int watch(List<String> args) throws IOException, InterruptedException {
    if (args.isEmpty()) {
      return usage("watch needs a run id");
    }
    String runId = args.get(0);
    boolean untilGate = args.contains("--until-gate");
    long started = System.nanoTime();
    Map<String, String> shown = new HashMap<>();
    while (true) {
      JsonNode status = send("GET", "/api/runs/" + runId, null, null);
      for (String line : changes(status, shown)) {
        out.printf("[%6.1fs] %s%n", (System.nanoTime() - started) / 1e9, line);
      }
      String state = status.path("state").asText();
      if (FINAL_STATES.contains(state)) {
        if (!state.equals("SUCCEEDED")) {
          out.println(runId + " " + state + (status.hasNonNull("failure") ? ": " + status.path("failure").asText() : ""));
          return RUN_DID_NOT_SUCCEED;
        }
        out.println(runId + " SUCCEEDED");
        return OK;
      }
      if (untilGate && status.path("pendingGate").isObject()) {
        return OK;
      }
      Thread.sleep(pollEvery.toMillis());
    }
  }

  /**
   * One line per step whose state or progress changed since the last poll, and the run's overall
   * bar (steps finished of all steps) whenever it moves.
   */
  private static List<String> changes(JsonNode status, Map<String, String> shown) {
    List<String> lines = new ArrayList<>();
    int total = status.path("steps").size();
    int finished = 0;
    for (JsonNode step : status.path("steps")) {
      if (Set.of("DONE", "SKIPPED", "FAILED").contains(step.path("state").asText())) {
        finished++;
      }
    }
    if (total > 0) {
      String overall = String.format("%-17s %s %d/%d steps", "run", bar(finished, total, 30), finished, total);
      if (!overall.equals(shown.get("(run)"))) {
        shown.put("(run)", overall);
        lines.add(overall);
      }
    }
    JsonNode progress = status.path("progress");
    for (JsonNode step : status.path("steps")) {
      String name = step.path("name").asText();
      String state = step.path("state").asText();
      if (state.equals("PENDING")) {
        continue;
      }
      String detail = step.path("detail").asText("");
      if (state.equals("RUNNING")) {
        if (name.startsWith("gate:")) {
          detail = waitingFor(status.path("pendingGate"));
        } else if (progress.isObject()) {
          detail = progressLine(progress);
        }
      }
      if (state.equals("DONE") || state.equals("FAILED")) {
        detail = String.format("%.1fs  %s", step.path("durationMillis").asLong() / 1000.0, detail);
      }
      String line = String.format("%-17s %-8s %s", name, state.toLowerCase(), detail).stripTrailing();
      if (!line.equals(shown.get(name))) {
        shown.put(name, line);
        lines.add(line);
      }
    }
    return lines;
  }

  private static String waitingFor(JsonNode gate) {
    if (!gate.isObject()) {
      return "";
    }
    JsonNode approvers = gate.path("approvers");
    List<String> names = new ArrayList<>();
    approvers.forEach(a -> names.add(a.asText()));
    return "waiting for "
        + (names.isEmpty() ? "any approver" : String.join(" or ", names))
        + " until "
        + gate.path("deadline").asText();
  }

  private static String progressLine(JsonNode p) {
    StringBuilder b = new StringBuilder();
    long total = p.path("tablesTotal").asLong(0);
    if (total > 0) {
      long done = p.path("tablesDone").asLong(0);
      b.append(bar(done, total, 20)).append(' ').append(done).append('/').append(total).append(" tables");
    }
    if (p.path("bytes").asLong(0) > 0) {
      b.append(b.length() > 0 ? ", " : "").append(ByteSize.format(p.path("bytes").asLong()));
      if (p.path("bytesTotal").asLong(0) > 0) {
        b.append(" of ").append(ByteSize.format(p.path("bytesTotal").asLong()));
      }
    }
    // Continuous sync reports its lag: a bar that empties as the target catches up.
    if (p.has("lagBytes") && p.path("lagThresholdBytes").asLong(0) > 0) {
      long lag = p.path("lagBytes").asLong();
      long threshold = p.path("lagThresholdBytes").asLong();
      b.append(b.length() > 0 ? ", " : "").append("lag ").append(bar(Math.min(lag, 10 * threshold), 10 * threshold, 20))
          .append(' ').append(ByteSize.format(lag)).append(lag <= threshold ? " (under " : " (threshold ")
          .append(ByteSize.format(threshold)).append(')');
    } else if (p.has("lagBytes")) {
      b.append(b.length() > 0 ? ", " : "").append("lag ").append(ByteSize.format(p.path("lagBytes").asLong()));
    }
    if (p.hasNonNull("current")) {
      b.append(" (").append(p.path("current").asText()).append(')');
    }
    if (p.path("attempt").asInt(1) > 1) {
      b.append(" attempt ").append(p.path("attempt").asInt());
      if (p.hasNonNull("lastFailure")) {
        b.append(", last failure: ").append(p.path("lastFailure").asText());
      }
    }
    return b.toString();
  }

  private int runs(List<String> args) throws IOException, InterruptedException {
    StringBuilder query = new StringBuilder();
    for (int i = 0; i < args.size(); i++) {
      String option = args.get(i);
      if (!Set.of("--state", "--app", "--kind", "--phase", "--limit").contains(option) || i + 1 == args.size()) {
        return usage("runs takes --state STATE, --app APP, --kind KIND, --phase PHASE and --limit N");
      }
      query.append(query.length() == 0 ? "?" : "&")
          .append(option.substring(2))
          .append('=')
          .append(java.net.URLEncoder.encode(args.get(++i), StandardCharsets.UTF_8));
    }
    JsonNode page = send("GET", "/api/runs" + query, null, null);
    out.printf("%-32s %-10s %-18s %-10s %-20s %s%n", "RUN", "KIND", "STATE", "BY", "STARTED", "PHASE");
    for (JsonNode run : page.path("runs")) {
      out.println(String.format(
          "%-32s %-10s %-18s %-10s %-20s %s",
          run.path("runId").asText(),
          run.path("kind").asText(),
          run.path("state").asText(),
          run.path("startedBy").asText(""),
          run.path("createdAt").asText("").replace('T', ' ').replaceAll("\\.\\d+Z$|Z$", ""),
          run.path("phase").asText("")).stripTrailing());
    }
    if (page.path("runs").isEmpty()) {
      out.println("(no runs)");
    }
    if (page.hasNonNull("next")) {
      out.println("more: ferry runs ... --limit " + page.path("limit").asInt() + " (next page: " + page.path("next").asText() + ")");
    }
    return OK;
  }

  private int events(List<String> args) throws IOException, InterruptedException {
    if (args.size() != 1) {
      return usage("events needs a run id");
    }
    JsonNode page = send("GET", "/api/runs/" + args.get(0) + "/events", null, null);
    for (JsonNode e : page.path("events")) {
      out.println(
          String.join(
                  "  ",
                  e.path("at").asText(),
                  String.format("%-17s", e.path("type").asText()),
                  e.path("step").asText(""),
                  e.path("actor").isNull() || e.path("actor").isMissingNode() ? "" : "by " + e.path("actor").asText(),
                  e.path("detail").asText(""))
              .replaceAll(" {3,}", "  ")
              .stripTrailing());
    }
    return OK;
  }

  private int cancel(List<String> args) throws IOException, InterruptedException {
    if (args.isEmpty()) {
      return usage("cancel needs a run id");
    }
    var body = JsonNodeFactory.instance.objectNode();
    for (int i = 1; i < args.size(); i++) {
      if ((args.get(i).equals("-m") || args.get(i).equals("--reason")) && i + 1 < args.size()) {
        body.put("reason", args.get(++i));
      } else {
        return usage("unknown option " + args.get(i));
      }
    }
    JsonNode accepted = send("POST", "/api/runs/" + args.get(0) + "/cancel", body.toString(), "application/json");
    out.println("cancel requested by " + accepted.path("requestedBy").asText() + "; follow it with: ferry watch " + args.get(0));
    return OK;
  }

  private int schedules(List<String> args) throws IOException, InterruptedException {
    String query = "";
    if (args.size() == 2 && args.get(0).equals("--app")) {
      query = "?app=" + java.net.URLEncoder.encode(args.get(1), StandardCharsets.UTF_8);
    } else if (!args.isEmpty()) {
      return usage("schedules takes --app APP");
    }
    JsonNode page = send("GET", "/api/schedules" + query, null, null);
    out.printf("%-32s %-8s %-34s %-20s %s%n", "SCHEDULE", "STATE", "WHEN", "NEXT", "LAST FIRE");
    for (JsonNode s : page.path("schedules")) {
      JsonNode last = s.path("recent").path(0);
      out.println(String.format(
          "%-32s %-8s %-34s %-20s %s",
          s.path("scheduleId").asText(),
          s.path("state").asText(),
          timing(s),
          time(s.path("nextFireAt")),
          last.isMissingNode() ? s.path("problem").asText("") : fire(last)).stripTrailing());
    }
    if (page.path("schedules").isEmpty()) {
      out.println("(no schedules)");
    }
    return OK;
  }

  private int schedule(List<String> args) throws IOException, InterruptedException {
    if (args.isEmpty()) {
      return usage("schedule needs create, show, pause, resume, trigger or delete");
    }
    String verb = args.get(0);
    if (verb.equals("create")) {
      return createSchedule(args.subList(1, args.size()));
    }
    if (!Set.of("show", "pause", "resume", "trigger", "delete").contains(verb)) {
      return usage("unknown schedule command " + verb);
    }
    if (args.size() < 2) {
      return usage("schedule " + verb + " needs a schedule id");
    }
    String id = args.get(1);
    var body = JsonNodeFactory.instance.objectNode();
    for (int i = 2; i < args.size(); i++) {
      if ((args.get(i).equals("-m") || args.get(i).equals("--note")) && i + 1 < args.size() && !verb.equals("show") && !verb.equals("delete")) {
        body.put("note", args.get(++i));
      } else {
        return usage("unknown option " + args.get(i));
      }
    }
    String path = "/api/schedules/" + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8);
    switch (verb) {
      case "show" -> printSchedule(send("GET", path, null, null));
      case "delete" -> {
        send("DELETE", path, null, null);
        out.println(id + " deleted; a rehearsal it started goes on");
      }
      case "trigger" -> {
        JsonNode fire = send("POST", path + "/trigger", body.toString(), "application/json").path("fire");
        out.println(fire(fire));
        return "SKIPPED".equals(fire.path("result").asText()) || "FAILED".equals(fire.path("result").asText()) ? RUN_DID_NOT_SUCCEED : OK;
      }
      default -> {
        JsonNode s = send("POST", path + "/" + verb, body.toString(), "application/json");
        out.println(id + " " + s.path("state").asText() + (s.hasNonNull("note") ? " (" + s.path("note").asText() + ")" : ""));
      }
    }
    return OK;
  }

  private int createSchedule(List<String> args) throws IOException, InterruptedException {
    var body = JsonNodeFactory.instance.objectNode();
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (Set.of("--cron", "--timezone", "--every").contains(a) && i + 1 < args.size()) {
        body.put(a.equals("--every") ? "interval" : a.substring(2), args.get(++i));
      } else if (a.equals("--reuse-snapshot")) {
        body.put("freshSnapshot", false);
      } else if (a.startsWith("-")) {
        return usage("unknown option " + a);
      } else {
        files.add(a);
      }
    }
    if (files.size() != 1) {
      return usage("schedule create needs a runbook file, and --cron \"MIN HOUR DAY MONTH WEEKDAY\" or --every DURATION");
    }
    body.put("runbook", readRunbook(files.get(0)));
    JsonNode created = send("POST", "/api/schedules", body.toString(), "application/json");
    out.println(created.path("scheduleId").asText());
    err.println(
        "created " + created.path("scheduleId").asText() + " (" + timing(created) + "), a Temporal schedule of that id; see it with: ferry schedule show "
            + created.path("scheduleId").asText());
    return OK;
  }

  private void printSchedule(JsonNode s) {
    out.println(s.path("scheduleId").asText() + "  " + s.path("state").asText() + "  app " + s.path("app").asText());
    out.println("  when:     " + timing(s) + (s.path("freshSnapshot").asBoolean(true) ? "" : ", reusing the newest snapshot"));
    out.println("  created:  by " + s.path("createdBy").asText() + " at " + time(s.path("createdAt")));
    if (s.hasNonNull("note")) {
      out.println("  note:     " + s.path("note").asText());
    }
    if (s.hasNonNull("nextFireAt")) {
      out.println("  next:     " + time(s.path("nextFireAt")));
    }
    if (s.hasNonNull("runningRehearsalId")) {
      out.println("  running:  " + s.path("runningRehearsalId").asText());
    }
    if (s.has("started")) {
      out.println("  fired:    " + s.path("started").asLong() + " started, " + s.path("skipped").asLong() + " skipped");
    }
    if (s.hasNonNull("problem")) {
      out.println("  problem:  " + s.path("problem").asText());
    }
    for (JsonNode f : s.path("recent")) {
      out.println("  " + fire(f));
    }
    if (!s.path("history").isEmpty()) {
      out.println("  changes:");
    }
    for (JsonNode c : s.path("history")) {
      out.println("    " + time(c.path("at")) + "  " + c.path("type").asText() + " by " + c.path("by").asText()
          + (c.hasNonNull("result") ? " -> " + c.path("result").asText() : "")
          + (c.hasNonNull("note") ? ": " + c.path("note").asText() : ""));
    }
  }

  private static String timing(JsonNode s) {
    return s.hasNonNull("cron") ? "cron \"" + s.path("cron").asText() + "\" " + s.path("timezone").asText() : "every " + s.path("interval").asText();
  }

  /** {@code 2026-11-22 02:00:00 STARTED rehearsal-shop-1a2b3c4d (trigger by olivia)}, or why it skipped. */
  private static String fire(JsonNode f) {
    String what =
        switch (f.path("result").asText()) {
          case "STARTED" -> "started " + f.path("rehearsalId").asText() + (f.hasNonNull("reason") ? " (" + f.path("reason").asText() + ")" : "");
          case "SKIPPED" -> "skipped: " + f.path("reason").asText();
          case "FAILED" -> "failed to start: " + f.path("reason").asText();
          default -> f.path("result").asText().toLowerCase() + (f.hasNonNull("reason") ? ": " + f.path("reason").asText() : "");
        };
    String by = f.path("trigger").asText("schedule").equals("schedule") ? "" : " [" + f.path("trigger").asText() + "]";
    return time(f.path("at")) + "  " + what + by;
  }

  private static String time(JsonNode t) {
    return t.isMissingNode() || t.isNull() ? "" : t.asText().replace('T', ' ').replaceAll("\\.\\d+Z$|Z$", "");
  }

  /** {@code [#####.....]}: {@code done} of {@code total} in {@code width} characters. */
  static String bar(long done, long total, int width) {
    int filled = total <= 0 ? 0 : (int) Math.min(width, Math.max(0, done) * width / total);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }

  private int decide(List<String> args, String verb) throws IOException, InterruptedException {
    if (args.size() < 2) {
      return usage(verb + " needs a run id and a gate");
    }
    String comment = null;
    for (int i = 2; i < args.size(); i++) {
      if ((args.get(i).equals("-m") || args.get(i).equals("--comment")) && i + 1 < args.size()) {
        comment = args.get(++i);
      } else {
        return usage("unknown option " + args.get(i));
      }
    }
    var body = JsonNodeFactory.instance.objectNode();
    if (comment != null) {
      body.put("comment", comment);
    }
    JsonNode decision =
        send("POST", "/api/runs/" + args.get(0) + "/gates/" + args.get(1) + "/" + verb, body.toString(), "application/json");
    out.println(
        "gate " + decision.path("gate").asText() + " " + decision.path("verdict").asText().toLowerCase() + "d by " + decision.path("decidedBy").asText());
    return OK;
  }

  private int waitReady(List<String> args) throws InterruptedException {
    long seconds = args.isEmpty() ? 120 : Long.parseLong(args.get(0));
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r =
            http.send(HttpRequest.newBuilder(URI.create(api + "/api/runs/_ready")).timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        // Any answer from the API (401 without a token, 404 with one) means it is up.
        if (r.statusCode() < 500) {
          return OK;
        }
        last = "HTTP " + r.statusCode();
      } catch (IOException e) {
        last = describe(e);
      }
      Thread.sleep(pollEvery.toMillis());
    }
    err.println("ferry: the API at " + api + " did not answer within " + seconds + "s (" + last + ")");
    return ERROR;
  }

  private int hashToken() throws IOException {
    String token = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (token == null || token.isBlank()) {
      return usage("hash-token reads the token from stdin");
    }
    out.println(TokenHash.sha256Hex(token.trim()));
    return OK;
  }

  // ---- rehearsals ----------------------------------------------------------------------------

  private int rehearse(List<String> args) throws IOException, InterruptedException {
    String key = null;
    boolean reuse = false;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--idempotency-key") && i + 1 < args.size()) {
        key = args.get(++i);
      } else if (args.get(i).equals("--reuse-snapshot")) {
        reuse = true;
      } else {
        files.add(args.get(i));
      }
    }
    if (files.size() != 1) {
      return usage("rehearse needs a runbook file");
    }
    JsonNode created =
        send("POST", "/api/rehearsals" + (reuse ? "?fresh=false" : ""), readRunbook(files.get(0)), "application/yaml", key);
    String id = created.path("runId").asText();
    out.println(id);
    err.println("started " + id + "; follow it with: ferry watch " + id + "; its report, once it ends: ferry rehearsal " + id);
    return OK;
  }

  private int rehearsals(List<String> args) throws IOException, InterruptedException {
    StringBuilder query = new StringBuilder();
    for (int i = 0; i < args.size(); i++) {
      String option = args.get(i);
      if (!Set.of("--app", "--limit").contains(option) || i + 1 == args.size()) {
        return usage("rehearsals takes --app APP and --limit N");
      }
      query.append(query.length() == 0 ? "?" : "&")
          .append(option.substring(2))
          .append('=')
          .append(java.net.URLEncoder.encode(args.get(++i), StandardCharsets.UTF_8));
    }
    JsonNode list = send("GET", "/api/rehearsals" + query, null, null);
    JsonNode trend = list.path("trend");
    if (trend.path("considered").asInt() > 0) {
      out.printf("trend of the last %d that ran: %d succeeded (%.0f%%); estimated downtime median %s, worst %s%n",
          trend.path("considered").asInt(), trend.path("succeeded").asInt(), trend.path("successRate").asDouble() * 100,
          trend.path("medianDowntime").asText("-"), trend.path("worstDowntime").asText("-"));
    }
    out.printf("%-32s %-10s %-20s %-10s %-12s %s%n", "REHEARSAL", "OUTCOME", "STARTED", "TOOK", "DOWNTIME", "NOTE");
    for (JsonNode r : list.path("rehearsals")) {
      String note = r.hasNonNull("skipped") ? r.path("skipped").asText()
          : r.path("errors").isEmpty() ? r.path("verification").asText("") : r.path("errors").get(0).asText();
      out.println(String.format(
          "%-32s %-10s %-20s %-10s %-12s %s",
          r.path("rehearsalId").asText(),
          r.path("outcome").asText(),
          r.path("startedAt").asText("").replace('T', ' ').replaceAll("\\.\\d+Z$|Z$", ""),
          r.hasNonNull("durationMillis") ? String.format("%.1f s", r.path("durationMillis").asLong() / 1000.0) : "-",
          r.path("estimatedDowntime").asText("-"),
          note.length() > 80 ? note.substring(0, 77) + "..." : note).stripTrailing());
    }
    if (list.path("rehearsals").isEmpty()) {
      out.println("(no rehearsals)");
    }
    return OK;
  }

  private int rehearsal(List<String> args) throws IOException, InterruptedException {
    if (args.size() != 1) {
      return usage("rehearsal needs a rehearsal id");
    }
    JsonNode r = send("GET", "/api/rehearsals/" + args.get(0), null, null);
    out.println(r.path("rehearsalId").asText() + " (" + r.path("app").asText() + ", " + r.path("strategy").asText() + "): "
        + r.path("outcome").asText().toUpperCase()
        + (r.hasNonNull("skipped") ? ": " + r.path("skipped").asText() : ""));
    for (JsonNode p : r.path("phases")) {
      out.println(String.format("  %-17s %-9s %9s  %s",
          p.path("phase").asText(),
          p.path("state").asText(),
          p.hasNonNull("durationMillis") ? String.format("%.1f s", p.path("durationMillis").asLong() / 1000.0) : "-",
          p.path("detail").asText("")).stripTrailing());
    }
    out.println("data: " + ByteSize.format(r.path("bytes").asLong()) + " dumped, " + r.path("rows").asLong() + " rows verified");
    if (r.hasNonNull("verification")) {
      out.println("verification: " + r.path("verification").asText());
    }
    if (r.hasNonNull("estimatedDowntime")) {
      out.println("estimated cutover downtime: " + r.path("estimatedDowntime").asText());
      out.println("  " + r.path("estimateBasis").asText());
    }
    for (JsonNode e : r.path("errors")) {
      out.println("error: " + e.asText());
    }
    return r.path("outcome").asText().equals("failed") ? RUN_DID_NOT_SUCCEED : OK;
  }

  private JsonNode send(String method, String path, String body, String contentType)
      throws IOException, InterruptedException {
    return send(method, path, body, contentType, null);
  }

  private JsonNode send(String method, String path, String body, String contentType, String idempotencyKey)
      throws IOException, InterruptedException {
    if (token == null || token.isBlank()) {
      throw new ApiError("set FERRY_TOKEN to your API token");
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(api + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Accept", "application/json");
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json;
    try {
      json = response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
    } catch (IOException e) {
      throw new ApiError("HTTP " + response.statusCode() + " from " + path + ": " + response.body());
    }
    if (response.statusCode() >= 400) {
      StringBuilder message = new StringBuilder("HTTP " + response.statusCode() + ": " + json.path("message").asText(response.body()));
      for (JsonNode e : json.path("errors")) {
        message.append("\n  ").append(e.path("field").asText()).append(": ").append(e.path("message").asText());
      }
      throw new ApiError(message.toString());
    }
    return json;
  }

  private String describe(IOException e) {
    if (e instanceof ConnectException) {
      return "cannot reach the API at " + api + " (is it running? ./ferry dev starts it)";
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  private int usage(String problem) {
    err.println("ferry: " + problem);
    err.println(
        """
        usage: ferry plan RUNBOOK.yml
               ferry start RUNBOOK.yml [--idempotency-key KEY]
               ferry runs [--state STATE] [--app APP] [--kind migration|rehearsal] [--phase PHASE] [--limit N]
               ferry status RUN [--pretty]
               ferry watch RUN [--until-gate]
               ferry events RUN
               ferry approve RUN GATE [-m COMMENT]
               ferry reject RUN GATE -m COMMENT
               ferry cancel RUN [-m REASON]
               ferry schedules [--app APP]
               ferry schedule create RUNBOOK.yml (--cron "0 2 * * *" [--timezone ZONE] | --every 6h) [--reuse-snapshot]
               ferry schedule show|pause|resume|trigger|delete SCHEDULE [-m NOTE]
               ferry rehearse RUNBOOK.yml [--reuse-snapshot] [--idempotency-key KEY]
               ferry rehearsals [--app APP] [--limit N]
               ferry rehearsal ID
               ferry wait-ready [SECONDS]
               ferry hash-token   (reads the token on stdin)
        environment: FERRY_API (default http://127.0.0.1:8080), FERRY_TOKEN""");
    return ERROR;
  }

  /** The API refused or could not be understood. */
  static final class ApiError extends IOException {
    ApiError(String message) {
      super(message);
    }
  }
}

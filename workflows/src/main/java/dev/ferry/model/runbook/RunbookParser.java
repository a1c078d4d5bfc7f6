package dev.ferry.model.runbook;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads a runbook from YAML (or JSON, which is YAML too) and checks every field before anything
 * runs. A runbook that is wrong is refused with <em>every</em> problem listed by field, not just
 * the first one found.
 */
public final class RunbookParser {
  /** Heroku app names: a lowercase letter, then lowercase letters, digits and dashes. */
  private static final Pattern APP_NAME = Pattern.compile("[a-z][a-z0-9-]{1,29}");

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})\\s*([smhd])");
  private static final Duration MIN_GATE_TIMEOUT = Duration.ofMinutes(1);
  private static final Duration MAX_GATE_TIMEOUT = Duration.ofDays(30);
  static final int MAX_JOBS = 64;

  private static final ObjectMapper YAML =
      YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private RunbookParser() {}

  /**
   * Parses and validates a runbook.
   *
   * @throws RunbookInvalidException naming every problem, by field
   */
  public static Runbook parse(String text) {
    if (text == null || text.isBlank()) {
      throw RunbookInvalidException.unreadable("the runbook is empty");
    }
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw RunbookInvalidException.unreadable(problem(e) + where(e));
    }
    if (root == null || !root.isObject()) {
      throw RunbookInvalidException.unreadable("the top level must be a mapping of fields");
    }
    return new Reader().read(root);
  }

  /**
   * What the YAML parser found wrong, without the snippet of the runbook it quotes: that line
   * could be a database URL with its password.
   */
  private static String problem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException yaml) {
      String context = yaml.getContext() == null ? "" : yaml.getContext() + ": ";
      return context + (yaml.getProblem() == null ? "unreadable YAML" : yaml.getProblem());
    }
    if (e instanceof StreamReadException) {
      String message = e.getOriginalMessage();
      return message.contains("Duplicate field")
          ? "a field appears twice: " + message.substring(message.indexOf("Duplicate field"))
          : "unreadable YAML";
    }
    return "unreadable YAML";
  }

  private static String where(JsonProcessingException e) {
    return e.getLocation() == null
        ? ""
        : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
  }

  /** Parses {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d} or an ISO-8601 duration. */
  public static Duration parseDuration(String text) {
    Matcher m = SHORT_DURATION.matcher(text.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    return Duration.parse(text.trim());
  }

  /** Walks the tree once, collecting every problem before deciding. */
  private static final class Reader {
    private final List<FieldError> errors = new ArrayList<>();

    Runbook read(JsonNode root) {
      onlyKnownFields(
          root,
          "",
          Set.of(
              "app", "strategy", "source", "target", "snapshot", "gates", "sync", "fallbackWindow", "notifications",
              "dns", "heroku", "configVars", "rds", "rehearsals"));

      String app = text(root, "app", true);
      if (app != null && !APP_NAME.matcher(app).matches()) {
        error("app", "must be a Heroku app name: 2 to 30 lowercase letters, digits or dashes, starting with a letter");
      }
      Strategy strategy = strategy(root);
      SourceSpec source = source(root);
      TargetSpec target = target(root);
      if (source != null
          && target != null
          && source.databaseUrl() != null
          && source.databaseUrl().equals(target.databaseUrl())) {
        error("target.databaseUrl", "must not be the same reference as source.databaseUrl");
      }
      SnapshotSpec snapshot = snapshot(root);
      Map<String, GateSpec> gates = gates(root, strategy);
      SyncSpec sync = sync(root, strategy);
      snapshotMethodApplies(snapshot, sync);
      Duration fallbackWindow = fallbackWindow(root, strategy);
      NotificationSpec notifications = notifications(root);
      CutoverEdge edge = new CutoverEdge(this, root, source);
      RehearsalsSpec rehearsals = rehearsals(root);

      if (!errors.isEmpty()) {
        throw RunbookInvalidException.invalid(errors);
      }
      return new Runbook(
          app, strategy, source, target, snapshot, gates, sync, fallbackWindow, notifications,
          edge.dns, edge.heroku, edge.configVars, edge.rds, rehearsals);
    }

    /** The cutover budget: {@code rehearsals: {maxDowntime: 5m, maxAge: 7d}}. */
    private RehearsalsSpec rehearsals(JsonNode root) {
      JsonNode node = object(root, "rehearsals", false);
      if (node == null) {
        return null;
      }
      onlyKnownFields(node, "rehearsals.", Set.of("maxDowntime", "maxAge"));
      Duration maxDowntime = duration(node, "rehearsals.maxDowntime", Duration.ofSeconds(1), Duration.ofDays(7), null);
      Duration maxAge =
          duration(node, "rehearsals.maxAge", Duration.ofHours(1), Duration.ofDays(365), RehearsalsSpec.DEFAULT_MAX_AGE);
      return new RehearsalsSpec(maxDowntime, maxAge);
    }

    private Strategy strategy(JsonNode root) {
      String label = text(root, "strategy", true);
      if (label == null) {
        return null;
      }
      Strategy strategy = Strategy.parse(label).orElse(null);
      if (strategy == null) {
        error("strategy", "must be single-phase or multi-phase");
      }
      return strategy;
    }

    private SyncSpec sync(JsonNode root, Strategy strategy) {
      JsonNode node = object(root, "sync", strategy == Strategy.MULTI_PHASE);
      if (node == null) {
        return null;
      }
      if (strategy == Strategy.SINGLE_PHASE) {
        error("sync", "is for multi-phase runs only; a single-phase run copies a frozen source once");
        return null;
      }
      onlyKnownFields(node, "sync.", Set.of("method", "maxLag", "catchUpTimeout", "replicationRole"));
      String method = text(node, "sync.method", true);
      if (method != null && !method.equals(SyncSpec.TRIGGER) && !method.equals(SyncSpec.LOGICAL)) {
        error("sync.method", "must be trigger (works on Heroku) or logical (needs replication privileges)");
      }
      Duration maxLag = duration(node, "sync.maxLag", Duration.ofSeconds(1), Duration.ofHours(1), SyncSpec.DEFAULT_MAX_LAG);
      Duration catchUp =
          duration(node, "sync.catchUpTimeout", Duration.ofMinutes(1), Duration.ofDays(30), SyncSpec.DEFAULT_CATCH_UP_TIMEOUT);
      return new SyncSpec(method, maxLag, catchUp, replicationRole(node, method));
    }

    /** Only the logical method logs in to the source from the target: per-run unless the runbook says otherwise. */
    private String replicationRole(JsonNode node, String method) {
      String role = text(node, "sync.replicationRole", false);
      if (role == null) {
        return SyncSpec.LOGICAL.equals(method) ? SyncSpec.PER_RUN_ROLE : null;
      }
      if (!role.equals(SyncSpec.PER_RUN_ROLE) && !role.equals(SyncSpec.SOURCE_CREDENTIAL)) {
        error(
            "sync.replicationRole",
            "must be per-run (a role made for the run, the default) or source-credential (the subscription logs in"
                + " with the runbook's source credential, whose password the target then keeps until the drain)");
        return null;
      }
      if (SyncSpec.TRIGGER.equals(method)) {
        error("sync.replicationRole", "is for sync.method logical only: with trigger, nothing logs in to the source from the target");
        return null;
      }
      return role;
    }

    private Duration fallbackWindow(JsonNode root, Strategy strategy) {
      if (root.get("fallbackWindow") != null && strategy == Strategy.SINGLE_PHASE) {
        error("fallbackWindow", "is for multi-phase runs only");
        return null;
      }
      return duration(root, "fallbackWindow", Duration.ZERO, Duration.ofDays(30), Runbook.DEFAULT_FALLBACK_WINDOW);
    }

    private NotificationSpec notifications(JsonNode root) {
      JsonNode node = object(root, "notifications", false);
      if (node == null) {
        return null;
      }
      onlyKnownFields(node, "notifications.", Set.of("webhook"));
      String webhook = text(node, "notifications.webhook", true);
      if (webhook == null) {
        return null;
      }
      if (webhook.startsWith("https://")) {
        try {
          java.net.URI uri = java.net.URI.create(webhook);
          if (uri.getHost() == null) {
            throw new IllegalArgumentException();
          }
        } catch (IllegalArgumentException e) {
          error("notifications.webhook", "must be an https URL or a secret reference (env:NAME, ssm:/path)");
          return null;
        }
        return new NotificationSpec(webhook);
      }
      try {
        return new NotificationSpec(SecretRef.parse(webhook).toString());
      } catch (IllegalArgumentException e) {
        boolean reference = webhook.startsWith("env:") || webhook.startsWith("ssm:");
        error("notifications.webhook", reference ? e.getMessage() : "must be an https URL or a secret reference (env:NAME, ssm:/path)");
        return null;
      }
    }

    /** An optional duration field within bounds; the default when absent. */
    private Duration duration(JsonNode parent, String path, Duration min, Duration max, Duration fallback) {
      String text = text(parent, path, false);
      if (text == null) {
        return fallback;
      }
      try {
        Duration d = parseDuration(text);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
          error(path, "must be between " + show(min) + " and " + show(max));
          return null;
        }
        return d;
      } catch (RuntimeException e) {
        error(path, "must be a duration such as 30s, 30m, 24h or 7d");
        return null;
      }
    }

    private static String show(Duration d) {
      return d.isZero() ? "0" : d.toString().substring(2).toLowerCase();
    }

    private SourceSpec source(JsonNode root) {
      JsonNode node = object(root, "source", true);
      if (node == null) {
        return null;
      }
      onlyKnownFields(node, "source.", Set.of("herokuApp", "databaseUrl"));
      String herokuApp = text(node, "source.herokuApp", false);
      if (herokuApp != null && !APP_NAME.matcher(herokuApp).matches()) {
        error("source.herokuApp", "must be a Heroku app name: 2 to 30 lowercase letters, digits or dashes");
      }
      return new SourceSpec(herokuApp, secretRef(node, "source.databaseUrl"));
    }

    private TargetSpec target(JsonNode root) {
      JsonNode node = object(root, "target", true);
      if (node == null) {
        return null;
      }
      onlyKnownFields(node, "target.", Set.of("databaseUrl"));
      return new TargetSpec(secretRef(node, "target.databaseUrl"));
    }

    private SnapshotSpec snapshot(JsonNode root) {
      JsonNode node = object(root, "snapshot", false);
      if (node == null) {
        return SnapshotSpec.DEFAULT;
      }
      onlyKnownFields(node, "snapshot.", Set.of("jobs", "method"));
      Integer jobs = integer(node, "snapshot.jobs", 1, MAX_JOBS);
      String method = text(node, "snapshot.method", false);
      if (method != null && !method.equals(SnapshotSpec.STREAM) && !method.equals(SnapshotSpec.DUMP)) {
        error(
            "snapshot.method",
            "must be stream (the default: COPY from one exported snapshot straight into the target) or dump"
                + " (pg_dump -Fd to a worker's disk, then pg_restore)");
        method = null;
      }
      return new SnapshotSpec(jobs, method);
    }

    /** The copy method has nothing to say where the data is not copied by Ferry. */
    private void snapshotMethodApplies(SnapshotSpec snapshot, SyncSpec sync) {
      if (snapshot.method() != null && sync != null && SyncSpec.LOGICAL.equals(sync.method())) {
        error(
            "snapshot.method",
            "does not apply to sync.method logical: the subscription copies the data; remove it");
      }
    }

    private Map<String, GateSpec> gates(JsonNode root, Strategy strategy) {
      JsonNode node = object(root, "gates", false);
      Map<String, GateSpec> gates = new LinkedHashMap<>();
      if (node == null) {
        return gates;
      }
      Set<String> known = strategy == null ? Set.of() : Set.copyOf(strategy.gates());
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        String path = "gates." + entry.getKey();
        if (strategy != null && !known.contains(entry.getKey())) {
          error(path, "is not a gate of the " + strategy.label() + " strategy (its gates: " + String.join(", ", strategy.gates()) + ")");
          continue;
        }
        GateSpec gate = gate(entry.getValue(), path);
        if (gate != null) {
          gates.put(entry.getKey(), gate);
        }
      }
      return gates;
    }

    private GateSpec gate(JsonNode node, String path) {
      if (!node.isObject()) {
        error(path, "must be a mapping with approvers, timeout and allowSelfApproval");
        return null;
      }
      onlyKnownFields(node, path + ".", Set.of("approvers", "timeout", "allowSelfApproval", "remindAfter"));
      List<String> approvers = approvers(node.get("approvers"), path + ".approvers");
      Duration timeout = GateSpec.DEFAULT_TIMEOUT;
      String timeoutText = text(node, path + ".timeout", false);
      if (timeoutText != null) {
        try {
          timeout = parseDuration(timeoutText);
          if (timeout.compareTo(MIN_GATE_TIMEOUT) < 0 || timeout.compareTo(MAX_GATE_TIMEOUT) > 0) {
            error(path + ".timeout", "must be between 1m and 30d");
          }
        } catch (RuntimeException e) {
          error(path + ".timeout", "must be a duration such as 30m, 24h or 7d");
        }
      }
      boolean allowSelf = false;
      JsonNode self = node.get("allowSelfApproval");
      if (self != null && !self.isNull()) {
        if (self.isBoolean()) {
          allowSelf = self.booleanValue();
        } else {
          error(path + ".allowSelfApproval", "must be true or false");
        }
      }
      Duration remindAfter = duration(node, path + ".remindAfter", Duration.ofMinutes(1), MAX_GATE_TIMEOUT, null);
      if (remindAfter != null && remindAfter.compareTo(timeout) >= 0) {
        error(path + ".remindAfter", "must be shorter than the gate's timeout (" + show(timeout) + ")");
      }
      return new GateSpec(approvers, timeout, allowSelf, remindAfter);
    }

    private List<String> approvers(JsonNode node, String path) {
      if (node == null || node.isNull()) {
        return List.of();
      }
      if (!node.isArray()) {
        error(path, "must be a list of user names");
        return List.of();
      }
      Set<String> names = new LinkedHashSet<>();
      for (int i = 0; i < node.size(); i++) {
        JsonNode item = node.get(i);
        if (!item.isTextual() || item.textValue().isBlank()) {
          error(path + "[" + i + "]", "must be a user name");
        } else if (!names.add(item.textValue().trim())) {
          error(path + "[" + i + "]", "lists " + item.textValue().trim() + " twice");
        }
      }
      return List.copyOf(names);
    }

    private String secretRef(JsonNode node, String path) {
      String text = text(node, path, true);
      if (text == null) {
        return null;
      }
      try {
        return SecretRef.parse(text).toString();
      } catch (IllegalArgumentException e) {
        error(path, e.getMessage());
        return null;
      }
    }

    private JsonNode object(JsonNode parent, String path, boolean required) {
      JsonNode node = parent.get(leaf(path));
      if (node == null || node.isNull()) {
        if (required) {
          error(path, "is required");
        }
        return null;
      }
      if (!node.isObject()) {
        error(path, "must be a mapping of fields");
        return null;
      }
      return node;
    }

    private String text(JsonNode parent, String path, boolean required) {
      JsonNode node = parent.get(leaf(path));
      if (node == null || node.isNull() || (node.isTextual() && node.textValue().isBlank())) {
        if (required) {
          error(path, "is required");
        }
        return null;
      }
      if (!node.isValueNode() || node.isBoolean()) {
        error(path, "must be text");
        return null;
      }
      return node.asText().trim();
    }

    private Integer integer(JsonNode parent, String path, int min, int max) {
      JsonNode node = parent.get(leaf(path));
      if (node == null || node.isNull()) {
        return null;
      }
      if (!node.isIntegralNumber() || !node.canConvertToInt()) {
        error(path, "must be a whole number from " + min + " to " + max);
        return null;
      }
      int value = node.intValue();
      if (value < min || value > max) {
        error(path, "must be from " + min + " to " + max + ", not " + value);
        return null;
      }
      return value;
    }

    private void onlyKnownFields(JsonNode node, String prefix, Set<String> known) {
      node.fieldNames()
          .forEachRemaining(
              name -> {
                if (!known.contains(name)) {
                  error(prefix + name, "is not a runbook field (known here: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
              });
    }

    private static String leaf(String path) {
      return path.substring(path.lastIndexOf('.') + 1);
    }

    private void error(String field, String message) {
      errors.add(new FieldError(field, message));
    }
  }

  /**
   * The optional sections of the cutover edge ({@code dns}, {@code heroku}, {@code configVars},
   * {@code rds}), read with the {@link Reader}'s helpers so their problems join the others.
   */
  private static final class CutoverEdge {
    private static final Pattern ZONE_ID = Pattern.compile("[A-Z0-9]{1,32}");
    private static final Pattern HOST_NAME =
        Pattern.compile("(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 =
        Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]{2,45}");
    private static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern SSM_PREFIX = Pattern.compile("(/[A-Za-z0-9_.\\-]+)+");
    private static final Pattern RDS_INSTANCE = Pattern.compile("[a-zA-Z]([a-zA-Z0-9]|-(?!-)){0,62}");
    private static final Set<String> RECORD_TYPES = Set.of("CNAME", "A", "AAAA");
    private static final Duration MAX_TTL = Duration.ofHours(1);
    private static final Duration MAX_DWELL = Duration.ofHours(24);
    private static final Duration MAX_LATENCY = Duration.ofSeconds(30);
    private static final int MAX_STEPS = 20;
    private static final int MAX_SMOKE_CHECKS = 20;

    private final Reader reader;
    final DnsSpec dns;
    final HerokuSpec heroku;
    final ConfigVarsSpec configVars;
    final RdsSpec rds;

    CutoverEdge(Reader reader, JsonNode root, SourceSpec source) {
      this.reader = reader;
      dns = dns(root);
      heroku = heroku(root, source);
      configVars = configVars(root, heroku);
      rds = rds(root);
    }

    private DnsSpec dns(JsonNode root) {
      JsonNode node = reader.object(root, "dns", false);
      if (node == null) {
        return null;
      }
      reader.onlyKnownFields(
          node,
          "dns.",
          Set.of("hostedZoneId", "recordName", "recordType", "herokuTarget", "awsTarget", "setIdentifiers",
              "lowerTtlTo", "steps", "smokeChecks", "maxErrorRate"));
      String zone = reader.text(node, "dns.hostedZoneId", true);
      if (zone != null) {
        zone = zone.replaceFirst("^/?hostedzone/", "");
        if (!ZONE_ID.matcher(zone).matches()) {
          reader.error("dns.hostedZoneId", "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ");
        }
      }
      String name = hostName(node, "dns.recordName");
      String type = reader.text(node, "dns.recordType", false);
      type = type == null ? DnsSpec.DEFAULT_RECORD_TYPE : type.toUpperCase(java.util.Locale.ROOT);
      if (!RECORD_TYPES.contains(type)) {
        reader.error("dns.recordType", "must be CNAME, A or AAAA (weighted records that answer a value)");
        type = null;
      }
      String herokuTarget = target(node, "dns.herokuTarget", type);
      String awsTarget = target(node, "dns.awsTarget", type);
      if (herokuTarget != null && herokuTarget.equalsIgnoreCase(String.valueOf(awsTarget))) {
        reader.error("dns.awsTarget", "must differ from dns.herokuTarget");
      }
      DnsSpec.SetIdentifiers ids = setIdentifiers(node);
      Duration ttl =
          duration(node, "dns.lowerTtlTo", DnsSpec.DEFAULT_LOWER_TTL_TO, Duration.ofSeconds(1), MAX_TTL, "1s and 1h");
      if (ttl.toMillis() % 1000 != 0) {
        reader.error("dns.lowerTtlTo", "must be whole seconds: DNS counts TTLs in seconds");
      }
      List<TrafficStep> steps = steps(node);
      List<SmokeCheckSpec> checks = smokeChecks(node);
      double maxErrorRate = errorRate(node);
      return new DnsSpec(zone, name, type, herokuTarget, awsTarget, ids, ttl, steps, checks, maxErrorRate);
    }

    private String hostName(JsonNode node, String path) {
      String name = reader.text(node, path, true);
      if (name == null) {
        return null;
      }
      name = name.toLowerCase(java.util.Locale.ROOT).replaceFirst("\\.$", "");
      if (!HOST_NAME.matcher(name).matches()) {
        reader.error(path, "must be a DNS name such as www.shop.example.com");
        return null;
      }
      return name;
    }

    private String target(JsonNode node, String path, String type) {
      if (type == null || "CNAME".equals(type)) {
        return hostName(node, path);
      }
      String value = reader.text(node, path, true);
      if (value == null) {
        return null;
      }
      boolean ok = "A".equals(type) ? IPV4.matcher(value).matches() : IPV6.matcher(value).matches() && value.contains(":");
      if (!ok) {
        reader.error(path, "must be an " + ("A".equals(type) ? "IPv4" : "IPv6") + " address for an " + type + " record");
        return null;
      }
      return value;
    }

    private DnsSpec.SetIdentifiers setIdentifiers(JsonNode node) {
      JsonNode ids = reader.object(node, "dns.setIdentifiers", false);
      if (ids == null) {
        return DnsSpec.SetIdentifiers.DEFAULT;
      }
      reader.onlyKnownFields(ids, "dns.setIdentifiers.", Set.of("heroku", "aws"));
      String heroku = setIdentifier(ids, "dns.setIdentifiers.heroku", DnsSpec.SetIdentifiers.DEFAULT.heroku());
      String aws = setIdentifier(ids, "dns.setIdentifiers.aws", DnsSpec.SetIdentifiers.DEFAULT.aws());
      if (heroku.equals(aws)) {
        reader.error("dns.setIdentifiers.aws", "must differ from dns.setIdentifiers.heroku");
      }
      return new DnsSpec.SetIdentifiers(heroku, aws);
    }

    private String setIdentifier(JsonNode ids, String path, String fallback) {
      String id = reader.text(ids, path, false);
      if (id == null) {
        return fallback;
      }
      if (id.length() > 128) {
        reader.error(path, "must be at most 128 characters");
      }
      return id;
    }

    private List<TrafficStep> steps(JsonNode node) {
      JsonNode list = node.get("steps");
      if (list == null || list.isNull()) {
        return DnsSpec.DEFAULT_STEPS;
      }
      if (!list.isArray() || list.isEmpty() || list.size() > MAX_STEPS) {
        reader.error("dns.steps", "must be a list of 1 to " + MAX_STEPS + " steps such as {awsWeight: 10, dwell: 5m}");
        return List.of();
      }
      List<TrafficStep> steps = new ArrayList<>();
      Integer previous = null;
      Integer last = null;
      for (int i = 0; i < list.size(); i++) {
        last = null;
        String path = "dns.steps[" + i + "]";
        JsonNode item = list.get(i);
        if (!item.isObject()) {
          reader.error(path, "must be a mapping with awsWeight and dwell");
          continue;
        }
        reader.onlyKnownFields(item, path + ".", Set.of("awsWeight", "dwell"));
        Integer weight = null;
        if (item.get("awsWeight") == null || item.get("awsWeight").isNull()) {
          reader.error(path + ".awsWeight", "is required");
        } else {
          weight = reader.integer(item, path + ".awsWeight", 1, 100);
        }
        Duration dwell =
            duration(item, path + ".dwell", DnsSpec.DEFAULT_DWELL, Duration.ofSeconds(1), MAX_DWELL, "1s and 24h");
        if (weight != null) {
          if (previous != null && weight <= previous) {
            reader.error(path + ".awsWeight", "must be more than the step before (" + previous + "): weights only grow");
          }
          previous = weight;
          last = weight;
          steps.add(new TrafficStep(weight, dwell));
        }
      }
      if (last != null && last != 100) {
        reader.error("dns.steps[" + (list.size() - 1) + "].awsWeight", "the last step must send 100 % to AWS, not " + last);
      }
      return List.copyOf(steps);
    }

    private List<SmokeCheckSpec> smokeChecks(JsonNode node) {
      JsonNode list = node.get("smokeChecks");
      if (list == null || list.isNull() || (list.isArray() && list.isEmpty())) {
        reader.error("dns.smokeChecks", "is required: at least one URL on the AWS side to check at every traffic step");
        return List.of();
      }
      if (!list.isArray() || list.size() > MAX_SMOKE_CHECKS) {
        reader.error("dns.smokeChecks", "must be a list of 1 to " + MAX_SMOKE_CHECKS + " checks such as {url: https://…/health}");
        return List.of();
      }
      List<SmokeCheckSpec> checks = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        String path = "dns.smokeChecks[" + i + "]";
        JsonNode item = list.get(i);
        if (!item.isObject()) {
          reader.error(path, "must be a mapping with url, expectStatus and maxLatency");
          continue;
        }
        reader.onlyKnownFields(item, path + ".", Set.of("url", "expectStatus", "maxLatency"));
        String url = url(item, path + ".url");
        Integer status = reader.integer(item, path + ".expectStatus", 100, 599);
        Duration latency =
            duration(item, path + ".maxLatency", SmokeCheckSpec.DEFAULT_MAX_LATENCY, Duration.ofMillis(1), MAX_LATENCY, "1ms and 30s");
        if (url != null) {
          checks.add(new SmokeCheckSpec(url, status == null ? SmokeCheckSpec.DEFAULT_STATUS : status, latency));
        }
      }
      return List.copyOf(checks);
    }

    private String url(JsonNode item, String path) {
      String text = reader.text(item, path, true);
      if (text == null) {
        return null;
      }
      java.net.URI uri;
      try {
        uri = new java.net.URI(text);
      } catch (java.net.URISyntaxException e) {
        reader.error(path, "must be a URL such as https://shop-aws.example.com/health");
        return null;
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        reader.error(path, "must be an http or https URL");
        return null;
      }
      if (uri.getHost() == null) {
        reader.error(path, "must name a host");
        return null;
      }
      if (uri.getRawUserInfo() != null) {
        // Never echo it: it holds a password.
        reader.error(path, "must not hold a user or password: runbooks hold no secrets");
        return null;
      }
      return text;
    }

    private double errorRate(JsonNode node) {
      JsonNode rate = node.get("maxErrorRate");
      if (rate == null || rate.isNull()) {
        return DnsSpec.DEFAULT_MAX_ERROR_RATE;
      }
      if (!rate.isNumber() || rate.doubleValue() < 0 || rate.doubleValue() >= 1) {
        reader.error("dns.maxErrorRate", "must be a share from 0 to under 1, such as 0.01 for 1 %");
        return DnsSpec.DEFAULT_MAX_ERROR_RATE;
      }
      return rate.doubleValue();
    }

    private HerokuSpec heroku(JsonNode root, SourceSpec source) {
      JsonNode node = reader.object(root, "heroku", false);
      if (node == null) {
        return null;
      }
      reader.onlyKnownFields(node, "heroku.", Set.of("apiToken", "maintenanceMode", "scaleDownAtDecommission"));
      if (source != null && source.herokuApp() == null) {
        reader.error("source.herokuApp", "is required when the runbook has a heroku section: it names the app to drive");
      }
      String token = reader.secretRef(node, "heroku.apiToken");
      boolean maintenance = bool(node, "heroku.maintenanceMode", true);
      boolean scaleDown = bool(node, "heroku.scaleDownAtDecommission", false);
      return new HerokuSpec(token, maintenance, scaleDown);
    }

    private ConfigVarsSpec configVars(JsonNode root, HerokuSpec heroku) {
      JsonNode node = reader.object(root, "configVars", false);
      if (node == null) {
        return null;
      }
      reader.onlyKnownFields(node, "configVars.", Set.of("ssmPrefix", "skip", "rewrite"));
      if (heroku == null) {
        reader.error("heroku", "is required when the runbook has configVars: they are read with heroku.apiToken");
      }
      String prefix = reader.text(node, "configVars.ssmPrefix", true);
      if (prefix != null) {
        if (!prefix.startsWith("/")) {
          reader.error("configVars.ssmPrefix", "must start with / such as /shop/production");
        } else if (!SSM_PREFIX.matcher(prefix).matches() || prefix.length() > 900) {
          reader.error("configVars.ssmPrefix", "must be a parameter path such as /shop/production: letters, digits, _ . - between single slashes, no / at the end");
        } else if (prefix.toLowerCase(java.util.Locale.ROOT).matches("/(aws|ssm)([/.\\-_].*)?")) {
          reader.error("configVars.ssmPrefix", "must not start with /aws or /ssm: AWS reserves them");
        }
      }
      Set<String> skip = new LinkedHashSet<>();
      JsonNode list = node.get("skip");
      if (list != null && !list.isNull()) {
        if (!list.isArray()) {
          reader.error("configVars.skip", "must be a list of config var names");
        } else {
          for (int i = 0; i < list.size(); i++) {
            String path = "configVars.skip[" + i + "]";
            JsonNode item = list.get(i);
            if (!item.isTextual() || !CONFIG_KEY.matcher(item.textValue().trim()).matches()) {
              reader.error(path, "must be a config var name such as PAPERTRAIL_API_TOKEN");
            } else if (!skip.add(item.textValue().trim())) {
              reader.error(path, "lists " + item.textValue().trim() + " twice");
            }
          }
        }
      }
      Map<String, String> rewrite = new LinkedHashMap<>();
      JsonNode map = reader.object(node, "configVars.rewrite", false);
      if (map != null) {
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> entry = it.next();
          String key = entry.getKey();
          String path = "configVars.rewrite." + key;
          if (!CONFIG_KEY.matcher(key).matches()) {
            reader.error(path, "is not a config var name (letters, digits and _, not starting with a digit)");
            continue;
          }
          if (skip.contains(key)) {
            reader.error(path, "is also in configVars.skip: skip it or rewrite it, not both");
            continue;
          }
          String ref = reader.secretRef(map, path);
          if (ref != null) {
            rewrite.put(key, ref);
          }
        }
      }
      if (!skip.contains("DATABASE_URL") && (map == null || !map.has("DATABASE_URL"))) {
        reader.error(
            "configVars.rewrite",
            "must rewrite DATABASE_URL (to a reference to the RDS database URL) or configVars.skip must list it:"
                + " copied as it is, it would point the app on AWS at the Heroku database");
      }
      return new ConfigVarsSpec(prefix, List.copyOf(skip), Map.copyOf(rewrite));
    }

    private RdsSpec rds(JsonNode root) {
      JsonNode node = reader.object(root, "rds", false);
      if (node == null) {
        return null;
      }
      reader.onlyKnownFields(node, "rds.", Set.of("instanceId", "restorePointBeforeCutover"));
      String instance = reader.text(node, "rds.instanceId", true);
      if (instance != null && (!RDS_INSTANCE.matcher(instance).matches() || instance.endsWith("-"))) {
        reader.error("rds.instanceId", "must be an RDS instance identifier: up to 63 letters, digits and single hyphens, starting with a letter");
      }
      return new RdsSpec(instance, bool(node, "rds.restorePointBeforeCutover", false));
    }

    private boolean bool(JsonNode node, String path, boolean fallback) {
      JsonNode value = node.get(Reader.leaf(path));
      if (value == null || value.isNull()) {
        return fallback;
      }
      if (!value.isBoolean()) {
        reader.error(path, "must be true or false");
        return fallback;
      }
      return value.booleanValue();
    }

    private Duration duration(JsonNode node, String path, Duration fallback, Duration min, Duration max, String range) {
      String text = reader.text(node, path, false);
      if (text == null) {
        return fallback;
      }
      Duration value;
      try {
        value = text.matches("\\d{1,9}\\s*ms") ? Duration.ofMillis(Long.parseLong(text.replaceAll("\\D", ""))) : parseDuration(text);
      } catch (RuntimeException e) {
        reader.error(path, "must be a duration such as 60s, 5m or 1h");
        return fallback;
      }
      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        reader.error(path, "must be between " + range);
        return fallback;
      }
      return value;
    }
  }
}

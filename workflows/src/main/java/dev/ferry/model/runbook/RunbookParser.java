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
          root, "", Set.of("app", "strategy", "source", "target", "snapshot", "gates", "sync", "fallbackWindow", "notifications"));

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
      Duration fallbackWindow = fallbackWindow(root, strategy);
      NotificationSpec notifications = notifications(root);

      if (!errors.isEmpty()) {
        throw RunbookInvalidException.invalid(errors);
      }
      return new Runbook(app, strategy, source, target, snapshot, gates, sync, fallbackWindow, notifications);
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
      onlyKnownFields(node, "sync.", Set.of("method", "maxLag", "catchUpTimeout"));
      String method = text(node, "sync.method", true);
      if (method != null && !method.equals(SyncSpec.TRIGGER) && !method.equals(SyncSpec.LOGICAL)) {
        error("sync.method", "must be trigger (works on Heroku) or logical (needs replication privileges)");
      }
      Duration maxLag = duration(node, "sync.maxLag", Duration.ofSeconds(1), Duration.ofHours(1), SyncSpec.DEFAULT_MAX_LAG);
      Duration catchUp =
          duration(node, "sync.catchUpTimeout", Duration.ofMinutes(1), Duration.ofDays(30), SyncSpec.DEFAULT_CATCH_UP_TIMEOUT);
      return new SyncSpec(method, maxLag, catchUp);
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
        error("notifications.webhook", "must be an https URL or a secret reference (env:NAME, ssm:/path)");
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
      onlyKnownFields(node, "snapshot.", Set.of("jobs"));
      Integer jobs = integer(node, "snapshot.jobs", 1, MAX_JOBS);
      return new SnapshotSpec(jobs);
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
}

package dev.ferry.worker.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docker-compose.yml as Compose reads it: YAML, then {@code ${VAR}}, {@code ${VAR:-default}},
 * {@code ${VAR-default}}, {@code ${VAR:?error}}, {@code ${VAR?error}}, {@code $VAR} and
 * {@code $$} replaced from a {@code .env}-style map (Compose's interpolation rules), and an
 * {@code environment:} entry without a value passed on from that map only when it is set.
 */
public final class ComposeFile {
  private static final Pattern VARIABLE =
      Pattern.compile("\\$(?:\\$|\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}|([A-Za-z_][A-Za-z0-9_]*))");

  private final JsonNode root;
  private final Map<String, String> dotEnv;

  private ComposeFile(JsonNode root, Map<String, String> dotEnv) {
    this.root = root;
    this.dotEnv = dotEnv;
  }

  public static ComposeFile read(Path file, Map<String, String> dotEnv) throws IOException {
    return new ComposeFile(new YAMLMapper().readTree(file.toFile()), dotEnv);
  }

  /** The repository's docker-compose.yml. */
  public static Path path() {
    return Path.of(System.getProperty("ferry.repoRoot", "..")).resolve("docker-compose.yml");
  }

  /** {@code KEY=VALUE} lines of an env file such as deploy/env.example; comments skipped. */
  public static Map<String, String> readEnvFile(Path file) throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      int eq = trimmed.indexOf('=');
      values.put(trimmed.substring(0, eq), trimmed.substring(eq + 1));
    }
    return values;
  }

  public JsonNode service(String name) {
    JsonNode service = root.path("services").path(name);
    if (service.isMissingNode()) {
      throw new IllegalArgumentException("docker-compose.yml has no service " + name);
    }
    return service;
  }

  public List<String> serviceNames() {
    return iterableToList(root.path("services").fieldNames());
  }

  /** A service's {@code environment:}, interpolated, as the container gets it. */
  public Map<String, String> environment(String service) {
    Map<String, String> env = new LinkedHashMap<>();
    JsonNode entries = service(service).path("environment");
    entries.fields().forEachRemaining(e -> {
      if (e.getValue().isNull()) {
        if (dotEnv.containsKey(e.getKey())) {
          env.put(e.getKey(), dotEnv.get(e.getKey()));
        }
      } else {
        env.put(e.getKey(), interpolate(e.getValue().asText()));
      }
    });
    return env;
  }

  /** Text with Compose's variables replaced. */
  public String interpolate(String text) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group().equals("$$")) {
        replacement = "$";
      } else if (m.group(4) != null) {
        replacement = dotEnv.getOrDefault(m.group(4), "");
      } else {
        String name = m.group(1);
        String operator = m.group(2);
        String argument = m.group(3);
        String value = dotEnv.get(name);
        boolean unset = operator != null && operator.startsWith(":") ? value == null || value.isEmpty() : value == null;
        if (operator == null) {
          replacement = value == null ? "" : value;
        } else if (operator.endsWith("-")) {
          replacement = unset ? argument : value;
        } else if (unset) {
          throw new IllegalStateException("Compose would refuse to start: " + name + ": " + argument);
        } else {
          replacement = value;
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static <T> List<T> iterableToList(java.util.Iterator<T> it) {
    List<T> list = new java.util.ArrayList<>();
    it.forEachRemaining(list::add);
    return list;
  }
}

package dev.ferry.activities.secrets;

import dev.ferry.model.runbook.SecretRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which secret references this worker resolves: its deployment's allow-list, {@code
 * FERRY_SECRET_REFS}, comma-separated globs such as {@code env:HEROKU_*,ssm:/apps/*}.
 *
 * <p>A glob is a scheme ({@code env:} or {@code ssm:}) and a pattern in which {@code *} stands
 * for any run of characters, {@code /} included (as in IAM policies: {@code ssm:/apps/*} allows
 * {@code /apps/shop/DATABASE_URL}), and {@code ?} for one character; everything else matches
 * itself. Unset or blank, the list is {@link #DEFAULT}: exactly the references {@code ./ferry dev},
 * {@code ./ferry demo} and the test suites use. Whatever the list says, Ferry's own settings are
 * never resolvable ({@link SecretRef#ownSetting}): {@code env:*} allows every variable but those.
 */
public final class SecretPolicy {
  public static final String VARIABLE = "FERRY_SECRET_REFS";

  /**
   * The references of {@code worker/dev/demo-runbook.yml} ({@code ./ferry dev}, {@code ./ferry
   * demo}) and of the test suites' runbooks: the sample shop's databases, the multi-phase end to
   * end's second pair, a database that is not there, and the shop's webhook.
   */
  public static final String DEFAULT =
      "env:SHOP_SOURCE_URL,env:SHOP_TARGET_URL,env:SHOP_SYNC_SOURCE_URL,env:SHOP_SYNC_TARGET_URL,"
          + "env:SHOP_UNREACHABLE_URL,env:SHOP_WEBHOOK_URL";

  private final List<String> globs;
  private final List<Pattern> patterns;
  private final boolean fromDefault;

  private SecretPolicy(List<String> globs, boolean fromDefault) {
    this.globs = List.copyOf(globs);
    this.patterns = globs.stream().map(SecretPolicy::pattern).toList();
    this.fromDefault = fromDefault;
  }

  /**
   * The allow-list in {@code FERRY_SECRET_REFS}, or {@link #DEFAULT} when it is unset or blank.
   *
   * @throws IllegalArgumentException naming every entry that is not a glob of env: or ssm:, or
   *     that names one of Ferry's own settings outright
   */
  public static SecretPolicy fromEnvironment(Map<String, String> environment) {
    String list = environment.get(VARIABLE);
    if (list == null || list.isBlank()) {
      return new SecretPolicy(split(DEFAULT), true);
    }
    return new SecretPolicy(checked(split(list)), false);
  }

  /** An allow-list as written in {@code FERRY_SECRET_REFS} (tests, benches). */
  public static SecretPolicy of(String list) {
    return new SecretPolicy(checked(split(list)), false);
  }

  /** Whether this worker resolves the reference. */
  public boolean allows(SecretRef ref) {
    if (ref.scheme() == SecretRef.Scheme.ENV && SecretRef.ownSetting(ref.name())) {
      return false;
    }
    String text = ref.toString();
    return patterns.stream().anyMatch(p -> p.matcher(text).matches());
  }

  /** Whether the list is the built-in default ({@code FERRY_SECRET_REFS} unset). */
  public boolean isDefault() {
    return fromDefault;
  }

  /** The globs, for the start-up log: names and patterns only, never a value. */
  @Override
  public String toString() {
    return VARIABLE + (fromDefault ? " unset, the dev stack's references: " : ": ") + String.join(",", globs);
  }

  private static List<String> split(String list) {
    List<String> globs = new ArrayList<>();
    for (String entry : list.split(",")) {
      if (!entry.isBlank()) {
        globs.add(entry.trim());
      }
    }
    return globs;
  }

  private static List<String> checked(List<String> globs) {
    List<String> problems = new ArrayList<>();
    for (String glob : globs) {
      if (!glob.matches("(env|ssm):[A-Za-z0-9_.\\-/*?]+")) {
        problems.add(glob + " is not env:<name glob> or ssm:<path glob> (letters, digits, _ . - /, * and ?)");
      } else if (glob.startsWith("env:") && !glob.contains("*") && !glob.contains("?") && SecretRef.ownSetting(glob.substring(4))) {
        problems.add(glob + " is one of Ferry's own settings, which are never resolvable");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(VARIABLE + ": " + String.join("; ", problems));
    }
    return globs;
  }

  private static Pattern pattern(String glob) {
    StringBuilder regex = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}

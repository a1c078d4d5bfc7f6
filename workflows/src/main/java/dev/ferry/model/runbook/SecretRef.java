package dev.ferry.model.runbook;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A reference to a secret that only an activity resolves: {@code env:NAME} (the worker's
 * environment) or {@code ssm:/path/NAME} (AWS SSM Parameter Store, decrypted).
 *
 * <p>A reference never names one of Ferry's own settings ({@link #ownSetting}): the worker's
 * environment holds its ledger's password, its keys and its AWS and Temporal credentials, and a
 * runbook that could reach them could copy Ferry's ledger into a database its author chose. Such
 * a reference is refused where it is parsed: by the API (422, by field) and again by the worker.
 */
public record SecretRef(Scheme scheme, String name) {

  public enum Scheme {
    ENV,
    SSM
  }

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,254}");
  private static final Pattern SSM_NAME = Pattern.compile("/[A-Za-z0-9_.\\-/]{1,1010}");

  /**
   * Environment variables the worker (and the tools and libraries it runs) reads for itself:
   * Ferry's settings, Temporal's and AWS's credentials, libpq's ({@code PGPASSWORD}, {@code
   * PGSERVICEFILE}, …, read by pg_dump and pg_restore), the JVM's options. Compared ignoring case.
   */
  public static final List<String> OWN_PREFIXES = List.of("FERRY_", "TEMPORAL_", "AWS_", "PG", "JAVA_", "_JAVA_", "JDK_");

  /** The same, whole names. */
  public static final List<String> OWN_NAMES = List.of("HOSTNAME", "HOME", "PATH");

  /** Parses a reference, or explains what is wrong without repeating the value. */
  public static SecretRef parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("is required");
    }
    if (text.startsWith("env:")) {
      String name = text.substring(4);
      if (!ENV_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "env: must be followed by an environment variable name such as HEROKU_DATABASE_URL");
      }
      if (ownSetting(name)) {
        throw new IllegalArgumentException(
            "env:" + name + " names one of Ferry's own settings (" + String.join("*, ", OWN_PREFIXES) + "*, "
                + String.join(", ", OWN_NAMES) + "), which no runbook may reach; give the app's database its own"
                + " variable, such as env:HEROKU_DATABASE_URL");
      }
      return new SecretRef(Scheme.ENV, name);
    }
    if (text.startsWith("ssm:")) {
      String name = text.substring(4);
      if (!SSM_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "ssm: must be followed by a parameter path such as /myapp/DATABASE_URL");
      }
      // The allow-list globs on the path: a path that says one thing and means another is refused.
      if (name.endsWith("/") || name.contains("//") || name.contains("/./") || name.contains("/../")
          || name.endsWith("/.") || name.endsWith("/..")) {
        throw new IllegalArgumentException(
            "ssm: paths have no empty, . or .. segments and no trailing /: write the parameter's full name, such as /myapp/DATABASE_URL");
      }
      return new SecretRef(Scheme.SSM, name);
    }
    // Never echo the value: it is most likely the secret itself.
    throw new IllegalArgumentException(
        "must be a reference such as env:HEROKU_DATABASE_URL or ssm:/myapp/DATABASE_URL;"
            + " secrets are never written in a runbook");
  }

  /** Whether an environment variable's name is one the worker reads for itself. */
  public static boolean ownSetting(String variable) {
    String upper = variable.toUpperCase(Locale.ROOT);
    return OWN_NAMES.contains(upper) || OWN_PREFIXES.stream().anyMatch(upper::startsWith);
  }

  @Override
  public String toString() {
    return scheme.name().toLowerCase() + ":" + name;
  }
}

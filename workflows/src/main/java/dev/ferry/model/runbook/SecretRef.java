package dev.ferry.model.runbook;

import java.util.regex.Pattern;

/**
 * A reference to a secret that only an activity resolves: {@code env:NAME} (the worker's
 * environment) or {@code ssm:/path/NAME} (AWS SSM Parameter Store, decrypted).
 */
public record SecretRef(Scheme scheme, String name) {

  public enum Scheme {
    ENV,
    SSM
  }

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,254}");
  private static final Pattern SSM_NAME = Pattern.compile("/[A-Za-z0-9_.\\-/]{1,1010}");

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
      return new SecretRef(Scheme.ENV, name);
    }
    if (text.startsWith("ssm:")) {
      String name = text.substring(4);
      if (!SSM_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "ssm: must be followed by a parameter path such as /myapp/DATABASE_URL");
      }
      return new SecretRef(Scheme.SSM, name);
    }
    // Never echo the value: it is most likely the secret itself.
    throw new IllegalArgumentException(
        "must be a reference such as env:HEROKU_DATABASE_URL or ssm:/myapp/DATABASE_URL;"
            + " secrets are never written in a runbook");
  }

  @Override
  public String toString() {
    return scheme.name().toLowerCase() + ":" + name;
  }
}

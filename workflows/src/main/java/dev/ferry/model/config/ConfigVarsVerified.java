package dev.ferry.model.config;

import java.util.List;

/**
 * Whether SSM holds every config var the app needs, with the right value, as SecureString. By
 * key name only.
 *
 * @param complete true when nothing is missing, differing or stored in plain text
 * @param expected keys that must be there
 * @param missing expected keys with no parameter
 * @param differing expected keys whose parameter holds another value
 * @param notSecure expected keys whose parameter is not a SecureString
 * @param extra parameters under the prefix that nothing expects (reported, not a failure)
 */
public record ConfigVarsVerified(
    String ssmPrefix,
    boolean complete,
    int expected,
    List<String> missing,
    List<String> differing,
    List<String> notSecure,
    List<String> extra) {

  /** One line for the run's step detail, naming the keys at fault. */
  public String summary() {
    if (complete) {
      return expected + " config vars in " + ssmPrefix + (extra.isEmpty() ? "" : ", " + extra.size() + " other parameter(s) there too");
    }
    StringBuilder out = new StringBuilder("config vars in " + ssmPrefix + " are not as Heroku has them:");
    if (!missing.isEmpty()) {
      out.append(" missing ").append(String.join(", ", missing)).append(';');
    }
    if (!differing.isEmpty()) {
      out.append(" different value ").append(String.join(", ", differing)).append(';');
    }
    if (!notSecure.isEmpty()) {
      out.append(" not SecureString ").append(String.join(", ", notSecure)).append(';');
    }
    return out.substring(0, out.length() - 1);
  }
}

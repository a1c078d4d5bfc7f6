package dev.ferry.activities.postgres;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The comment Ferry writes on what it installs in a database (schemas, publications,
 * subscriptions, scratch databases): {@code Ferry run <workflow id>: <what>}. It is how the sweep
 * ({@code dev.ferry.activities.sweep}) tells which run an object belongs to after the run ended
 * without removing it; an object without it is never swept.
 */
public final class RunComment {
  /** Run ids Ferry writes into a comment: what the API and Temporal's defaults make, nothing to escape. */
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,200}");
  private static final Pattern COMMENT = Pattern.compile("^Ferry run ([A-Za-z0-9._:@-]{1,200}): .*", Pattern.DOTALL);

  private RunComment() {}

  /**
   * The comment as an SQL string literal, for {@code COMMENT ON … IS <literal>}; without the
   * run (an id of another shape) it still says what the object is, and the sweep leaves it.
   */
  public static String literal(String runId, String what) {
    String text = runId != null && RUN_ID.matcher(runId).matches() ? "Ferry run " + runId + ": " + what : "Ferry: " + what;
    return "'" + text.replace("'", "''") + "'";
  }

  /** The run a comment names, if it is one of Ferry's. */
  public static Optional<String> runOf(String comment) {
    if (comment == null) {
      return Optional.empty();
    }
    Matcher m = COMMENT.matcher(comment);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }
}

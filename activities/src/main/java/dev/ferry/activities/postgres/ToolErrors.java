package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Locale;

/** Reads what pg_dump or pg_restore printed before it failed into a final or retryable failure. */
public final class ToolErrors {
  private ToolErrors() {}

  /**
   * @param finalType the type for errors retrying cannot fix ({@code SnapshotFailed}, {@code
   *     RestoreFailed})
   */
  public static ApplicationFailure classify(
      String tool, Endpoint endpoint, ToolRun.Outcome outcome, String finalType) {
    if (outcome.exitCode() > 128) {
      // Killed by a signal: the worker shutting down, the OOM killer, an operator. The work is
      // sound; another attempt will do it.
      return ApplicationFailure.newFailure(
          tool + " on " + endpoint.describe() + " was killed by signal " + (outcome.exitCode() - 128) + "; retrying",
          Errors.TOOL_KILLED);
    }
    String text = outcome.lastLinesJoined();
    String lower = text.toLowerCase(Locale.ROOT);
    String summary = tool + " failed on " + endpoint.describe() + ": " + firstError(outcome.lastLines());
    if (lower.contains("password authentication failed") || lower.contains("no password supplied")) {
      return ApplicationFailure.newNonRetryableFailure(summary, Errors.DATABASE_AUTH_FAILED);
    }
    if (lower.contains("server version mismatch") || lower.contains("unsupported version")) {
      return ApplicationFailure.newNonRetryableFailure(summary, Errors.INCOMPATIBLE_VERSIONS);
    }
    if (lower.contains("could not connect")
        || lower.contains("connection to server")
        || lower.contains("server closed the connection")
        || lower.contains("terminating connection")
        || lower.contains("could not translate host name")
        || lower.contains("could not obtain lock")
        || lower.contains("canceling statement due to lock timeout")) {
      return ApplicationFailure.newFailure(summary, Errors.DATABASE_UNREACHABLE);
    }
    return ApplicationFailure.newNonRetryableFailure(summary, finalType);
  }

  /** The first {@code error:} line and the command it was running, or the last line printed. */
  static String firstError(List<String> lines) {
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.contains("error:")) {
        StringBuilder b = new StringBuilder(line.substring(line.indexOf("error:") + 6).trim());
        for (int j = i + 1; j < lines.size() && j <= i + 3; j++) {
          String next = lines.get(j).trim();
          if (next.startsWith("Command was:") || next.startsWith("DETAIL:") || next.startsWith("HINT:")) {
            b.append(" | ").append(next);
          }
        }
        return b.toString();
      }
    }
    return lines.isEmpty() ? "no output" : lines.get(lines.size() - 1);
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one external tool (pg_dump, pg_restore) to completion: feeds every line it prints
 * (stdout and stderr, merged) to a listener, calls a tick as it starts and every few seconds while it runs (to heartbeat), and kills
 * it, children included, when the tick throws (the activity was cancelled or timed out) or the
 * worker shuts down.
 */
public final class ToolRun {
  static final Duration TICK = Duration.ofSeconds(2);
  private static final int KEPT_LINES = 40;

  /** What the tool left behind: its exit code and the last lines it printed. */
  public record Outcome(int exitCode, List<String> lastLines) {
    public boolean succeeded() {
      return exitCode == 0;
    }

    public String lastLinesJoined() {
      return String.join("\n", lastLines);
    }
  }

  private ToolRun() {}

  /**
   * Runs a tool against a database and fails the activity as the tool failed: what it printed
   * read by {@link ToolErrors#classify} (retryable or {@code finalType}), a tool that would not
   * start as {@link Errors#TOOL_MISSING}, an interrupt as the SDK's cancellation.
   *
   * @param tool how the failure names it ({@code pg_dump}, {@code vacuumdb --analyze-only})
   */
  public static void runOrFail(
      String tool, Endpoint endpoint, String finalType, List<String> command, Map<String, String> environment,
      Consumer<String> onLine, Runnable tick) {
    Outcome outcome;
    try {
      outcome = run(command, environment, onLine, tick);
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          program(command) + " could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
    if (!outcome.succeeded()) {
      throw ToolErrors.classify(tool, endpoint, outcome, finalType);
    }
  }

  /** The program a command runs, by its file name ({@code vacuumdb} for {@code /usr/…/bin/vacuumdb}). */
  static String program(List<String> command) {
    String first = command.get(0);
    return first.substring(first.lastIndexOf('/') + 1);
  }

  public static Outcome run(
      List<String> command, Map<String, String> environment, Consumer<String> onLine, Runnable tick)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process process = builder.start();
    Thread killOnExit = new Thread(() -> destroyTree(process), "ferry-kill-" + process.pid());
    Runtime.getRuntime().addShutdownHook(killOnExit);
    Deque<String> last = new ArrayDeque<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (last) {
                    if (last.size() == KEPT_LINES) {
                      last.removeFirst();
                    }
                    last.addLast(line);
                  }
                  onLine.accept(line);
                }
              } catch (IOException ignored) {
                // The process died; its exit code tells the rest.
              }
            },
            "ferry-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
    try {
      // At once, not a tick later: the attempt has been quiet since it started (the setup's
      // connections), and on a worker just started that can already be most of a short
      // heartbeat timeout.
      tick.run();
      while (!process.waitFor(TICK.toMillis(), TimeUnit.MILLISECONDS)) {
        tick.run();
      }
      reader.join(TimeUnit.SECONDS.toMillis(10));
    } catch (RuntimeException | InterruptedException e) {
      destroyTree(process);
      throw e;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(killOnExit);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs anyway.
      }
    }
    synchronized (last) {
      return new Outcome(process.exitValue(), new ArrayList<>(last));
    }
  }

  private static void destroyTree(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}

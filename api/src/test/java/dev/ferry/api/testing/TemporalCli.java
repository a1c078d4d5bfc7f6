package dev.ferry.api.testing;

import dev.ferry.testing.temporal.TemporalDevServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Temporal's own command line ({@code temporal}, the dev server's binary) against a test's server. */
public final class TemporalCli {
  private final String address;

  public TemporalCli(String address) {
    this.address = address;
  }

  /** What it printed (stdout and stderr); fails the test when it exits non-zero. */
  public String run(String... args) {
    Result r = tryRun(args);
    if (r.exitCode() != 0) {
      throw new AssertionError("temporal " + String.join(" ", args) + " exited " + r.exitCode() + ": " + r.output());
    }
    return r.output();
  }

  public record Result(int exitCode, String output) {}

  public Result tryRun(String... args) {
    List<String> command = new ArrayList<>();
    command.add(TemporalDevServer.binary().toString());
    command.addAll(List.of(args));
    command.addAll(List.of("--address", address));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("temporal " + String.join(" ", args) + " did not end in 60 s");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}

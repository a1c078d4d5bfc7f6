package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the PostgreSQL client tools on the worker: the directory named by {@code FERRY_PG_BIN},
 * or else the newest {@code /usr/lib/postgresql/<major>/bin} (Debian installs several side by
 * side, and pg_dump must not be older than the source server), or else {@code PATH}.
 */
public class PgTools {
  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

  private final Path binDir;

  public PgTools(Path binDir) {
    this.binDir = binDir;
  }

  /** Locates the tools as described above; {@code null} bin dir means "use PATH". */
  public static PgTools locate(Map<String, String> environment) {
    String configured = environment.get("FERRY_PG_BIN");
    if (configured != null && !configured.isBlank()) {
      return new PgTools(Path.of(configured));
    }
    return new PgTools(newestDebianBinDir(Path.of("/usr/lib/postgresql")).orElse(null));
  }

  static Optional<Path> newestDebianBinDir(Path root) {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(p -> Files.isExecutable(p.resolve("bin/pg_dump")))
          .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
          .map(p -> p.resolve("bin"));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The command to run a tool, such as {@code /usr/lib/postgresql/17/bin/pg_dump}. */
  public String command(String tool) {
    if (binDir == null) {
      return tool;
    }
    Path path = binDir.resolve(tool);
    if (!Files.isExecutable(path)) {
      throw ApplicationFailure.newNonRetryableFailure(
          tool + " is not installed on this worker (looked in " + binDir + ")", Errors.TOOL_MISSING);
    }
    return path.toString();
  }

  /** {@code pg_dump (PostgreSQL) 15.20}, as the tool prints it. */
  public String version(String tool) {
    List<String> cmd = List.of(command(tool), "--version");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw ApplicationFailure.newNonRetryableFailure(
            tool + " --version failed: " + out, Errors.TOOL_MISSING);
      }
      return out;
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          tool + " is not installed on this worker: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted", Errors.STEP_FAILED);
    }
  }

  /** The major version in a {@code --version} line: 15 for {@code 15.20}, 9 for {@code 9.6.2}. */
  public static int major(String versionLine) {
    Matcher m = VERSION.matcher(versionLine);
    if (!m.find()) {
      throw new IllegalArgumentException("no PostgreSQL version in: " + versionLine);
    }
    return Integer.parseInt(m.group(1));
  }
}

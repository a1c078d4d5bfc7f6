package dev.ferry.testing.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of Ferry's processes as a deployment runs it ({@code java -jar ferry-worker.jar worker},
 * {@code java -jar ferry-api.jar server CONFIG}), with exactly the environment given and its
 * output in a log file. {@link #kill()} is SIGKILL: no shutdown hook runs, the tools it started
 * (pg_dump, pg_restore) are orphaned as after a real crash, and are remembered so that a test
 * can check that Ferry ended them.
 */
public final class FerryProcess {
  private final String name;
  private final Process process;
  private final Path log;
  private final Instant startedAt;
  private final List<ProcessHandle> orphaned = new ArrayList<>();
  private Instant killedAt;

  private FerryProcess(String name, Process process, Path log, Instant startedAt) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.startedAt = startedAt;
  }

  /** Starts {@code java [jvmOptions] -jar jar args...} with only {@code environment}. */
  public static FerryProcess start(String name, Path jar, List<String> args, Map<String, String> environment, Path logDir) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    // Quicker to start and lighter on two shared cores (no C2 compiler threads); what the
    // process does is the same.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(args);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().clear();
    builder.environment().putAll(environment);
    try {
      Files.createDirectories(logDir);
      Process process = builder.start();
      // A test JVM that dies must not leave Ferry's processes running.
      Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "stop-" + name));
      return new FerryProcess(name, process, log, Instant.now());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + ": " + command, e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Whether a Temporal identity is this process's: the SDK names a worker {@code
   * <pid>@<hostname>} (the JVM's runtime name), and Temporal's history records it with every
   * activity attempt and workflow task a worker took.
   */
  public boolean isIdentity(String identity) {
    return identity != null && identity.startsWith(pid() + "@");
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Instant startedAt() {
    return startedAt;
  }

  /** When {@link #kill()} killed it; {@code null} while it has not. */
  public Instant killedAt() {
    return killedAt;
  }

  /**
   * SIGKILL, as a crash or the OOM killer: the JVM gets no chance to finish, hand back or clean
   * anything. Returns once the process is gone. Its child processes live on (reparented), as
   * after a real crash; they are remembered ({@link #orphans()}).
   */
  public Instant kill() {
    orphaned.addAll(process.descendants().toList());
    process.destroyForcibly();
    killedAt = Instant.now();
    awaitExit();
    return killedAt;
  }

  /** The killed JVM's child processes (pg_dump, pg_restore) that are still alive. */
  public List<ProcessHandle> orphans() {
    return orphaned.stream().filter(ProcessHandle::isAlive).toList();
  }

  /** SIGTERM, as an operator stops it: the worker hands its tasks back. */
  public void stop() {
    process.destroy();
    try {
      if (!process.waitFor(45, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        awaitExit();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  /** Ends it and anything it or its dead predecessors left running: for a test's clean-up. */
  public void destroyAll() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    orphans().forEach(ProcessHandle::destroyForcibly);
    awaitExit();
  }

  /** The process's output so far. */
  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log at " + log + ")";
    }
  }

  private void awaitExit() {
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + (process.isAlive() ? "" : ", exited") + ")";
  }
}

package dev.ferry.worker;

import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar ferry-worker.jar worker}: a worker against the Temporal server in {@code
 * TEMPORAL_ADDRESS} (see {@link WorkerSettings}); with {@code FERRY_WORKER_HEALTH_PORT} set, it
 * also answers {@code GET /health} on that loopback port ({@link WorkerHealth}).
 *
 * <p>{@code ./ferry dev} runs this beside the API and a real Temporal server, each its own
 * process, so that any one of them can die alone.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Iterator<String> it = Arrays.asList(args).iterator();
    String command = it.hasNext() ? it.next() : "worker";
    if (!command.equals("worker") || it.hasNext()) {
      usage(command.equals("worker") ? "unexpected argument " + it.next() : "unknown command " + command);
      return;
    }
    WorkerSettings settings;
    try {
      settings = WorkerSettings.fromEnvironment(System.getenv());
      // Read here too, so that a bad value is one line, not a stack trace.
      FerryWorker.preverifySettings(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("ferry-worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AutoCloseable running;
    FerryWorker worker;
    try {
      worker = FerryWorker.start(settings, System.getenv());
    } catch (FerryWorker.CannotStart e) {
      System.err.println("ferry-worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    String healthPort = System.getenv("FERRY_WORKER_HEALTH_PORT");
    if (healthPort == null || healthPort.isBlank()) {
      running = worker;
    } else {
      WorkerHealth health = WorkerHealth.start(Integer.parseInt(healthPort.trim()), worker);
      running = () -> {
        health.close();
        worker.close();
      };
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    running.close();
                  } catch (Exception e) {
                    System.err.println("ferry: error while stopping: " + e);
                  } finally {
                    stopped.countDown();
                  }
                },
                "ferry-shutdown"));
    stopped.await();
  }

  private static void usage(String problem) {
    System.err.println("ferry-worker: " + problem);
    System.err.println("usage: ferry-worker.jar worker   (settings from the environment: see WorkerSettings)");
    System.exit(2);
  }
}

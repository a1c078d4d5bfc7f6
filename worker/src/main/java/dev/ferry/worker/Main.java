package dev.ferry.worker;

import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar ferry-worker.jar worker}: a worker against the Temporal server in {@code
 * TEMPORAL_ADDRESS} (see {@link WorkerSettings}); with {@code FERRY_WORKER_HEALTH_PORT} set, it
 * also answers {@code GET /health} on that loopback port ({@link WorkerHealth}).
 *
 * <p>{@code java -jar ferry-worker.jar dev [--temporal-port 7233] [--api-config
 * api/config/dev.yml]}: the embedded dev stack (Temporal test server + worker + API).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Iterator<String> it = Arrays.asList(args).iterator();
    String command = it.hasNext() ? it.next() : "worker";
    WorkerSettings settings;
    try {
      // The embedded stack makes its own payload key when none is given; a worker needs one.
      settings = WorkerSettings.fromEnvironment(System.getenv(), !command.equals("dev"));
    } catch (IllegalArgumentException e) {
      System.err.println("ferry-worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AutoCloseable running;
    switch (command) {
      case "worker" -> {
        FerryWorker worker = FerryWorker.start(settings, System.getenv());
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
      }
      case "dev" -> {
        int temporalPort = Integer.parseInt(System.getenv().getOrDefault("FERRY_DEV_TEMPORAL_PORT", "7233"));
        String apiConfig = "api/config/dev.yml";
        while (it.hasNext()) {
          String option = it.next();
          switch (option) {
            case "--temporal-port" -> temporalPort = Integer.parseInt(value(it, option));
            case "--api-config" -> apiConfig = value(it, option);
            default -> usage("unknown option " + option);
          }
        }
        running = DevStack.start(temporalPort, settings, System.getenv(), apiConfig);
      }
      default -> {
        usage("unknown command " + command);
        return;
      }
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

  private static String value(Iterator<String> it, String option) {
    if (!it.hasNext()) {
      usage(option + " needs a value");
    }
    return it.next();
  }

  private static void usage(String problem) {
    System.err.println("ferry-worker: " + problem);
    System.err.println("usage: ferry-worker.jar worker");
    System.err.println("       ferry-worker.jar dev [--temporal-port 7233] [--api-config api/config/dev.yml]");
    System.exit(2);
  }
}

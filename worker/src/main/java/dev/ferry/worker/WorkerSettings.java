package dev.ferry.worker;

import dev.ferry.api.temporal.TemporalClientSecurity;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The worker's settings, from its environment:
 *
 * <ul>
 *   <li>{@code TEMPORAL_ADDRESS} ({@code 127.0.0.1:7233}), {@code TEMPORAL_NAMESPACE} ({@code
 *       default}), {@code FERRY_TASK_QUEUE} ({@code ferry});
 *   <li>{@code FERRY_HOST_TASK_QUEUE}: the queue only this host polls, where restores of this
 *       host's snapshots run ({@code <task queue>-host-<hostname>}: stable across restarts, so
 *       a restarted worker picks up where the dead one stopped);
 *   <li>{@code FERRY_WORK_DIR}: where snapshots are written ({@code ~/.ferry/work});
 *   <li>{@code FERRY_MAX_ACTIVITIES}: activities run at once per queue (4); each pg_dump or
 *       pg_restore runs its own jobs on top;
 *   <li>{@code TEMPORAL_TLS}, {@code TEMPORAL_TLS_CLIENT_CERT_PATH}, {@code
 *       TEMPORAL_TLS_CLIENT_KEY_PATH}, {@code TEMPORAL_TLS_SERVER_CA_CERT_PATH}, {@code
 *       TEMPORAL_TLS_SERVER_NAME}, {@code TEMPORAL_API_KEY}: TLS, mutual TLS and API key, as
 *       {@link TemporalClientSecurity} reads them (default: plaintext).
 * </ul>
 */
public record WorkerSettings(
    String temporalAddress,
    String namespace,
    String taskQueue,
    String hostTaskQueue,
    Path workDir,
    int maxConcurrentActivities,
    TemporalClientSecurity security) {

  /** Settings for a plaintext connection (the embedded server, tests). */
  public WorkerSettings(
      String temporalAddress, String namespace, String taskQueue, String hostTaskQueue, Path workDir, int maxConcurrentActivities) {
    this(temporalAddress, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities, TemporalClientSecurity.plaintext());
  }

  /**
   * @throws IllegalArgumentException naming every TLS or API key variable that is wrong
   */
  public static WorkerSettings fromEnvironment(Map<String, String> env) {
    String taskQueue = env.getOrDefault("FERRY_TASK_QUEUE", "ferry");
    return new WorkerSettings(
        env.getOrDefault("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
        env.getOrDefault("TEMPORAL_NAMESPACE", "default"),
        taskQueue,
        env.getOrDefault("FERRY_HOST_TASK_QUEUE", taskQueue + "-host-" + hostname()),
        Path.of(env.getOrDefault("FERRY_WORK_DIR", Path.of(System.getProperty("user.home"), ".ferry", "work").toString())),
        Integer.parseInt(env.getOrDefault("FERRY_MAX_ACTIVITIES", "4")),
        TemporalClientSecurity.fromEnvironment(env));
  }

  /** The same settings against the embedded server, which speaks plaintext on loopback. */
  public WorkerSettings withTemporalAddress(String address) {
    return new WorkerSettings(address, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities);
  }

  private static String hostname() {
    String fromEnv = System.getenv("HOSTNAME");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}

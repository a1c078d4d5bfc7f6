package dev.ferry.testing.process;

import dev.ferry.temporal.PayloadEncryption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The environment Ferry's worker and API processes get in a process-level test, all in one
 * place: what both share (Temporal, the ledger, the payload and approval keys, the references
 * the runbooks name), what only the worker reads (its work directory, host queue, heartbeat
 * timeout) and what only the API reads (its ports). A setting every deployment will need (an
 * allow-list of references, a required key) is added here once, for every such test.
 *
 * <p>Nothing of the test JVM's own environment leaks in except {@code PATH} and {@code HOME}:
 * a process gets exactly what this says.
 */
public final class StackEnvironment {
  /** The reference a runbook names an app's source database by ({@link #withApp}). */
  public static String sourceRef(String app) {
    return "env:" + variable(app, "SOURCE");
  }

  /** The reference a runbook names an app's target database by ({@link #withApp}). */
  public static String targetRef(String app) {
    return "env:" + variable(app, "TARGET");
  }

  /** {@code APP_<APP>_<SIDE>_URL}: outside Ferry's own {@code FERRY_*} settings, as an app's would be. */
  private static String variable(String app, String side) {
    return "APP_" + app.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_") + "_" + side + "_URL";
  }

  private final Map<String, String> shared = new LinkedHashMap<>();
  private final Map<String, String> workerOnly = new LinkedHashMap<>();
  private final Map<String, String> apiOnly = new LinkedHashMap<>();
  private Duration heartbeatTimeout;

  private StackEnvironment() {}

  /**
   * @param temporalAddress the Temporal frontend both reach
   * @param ledgerUrl the run ledger both use (a database of the test's own)
   * @param workDir the worker's {@code FERRY_WORK_DIR}: every worker process of the stack
   *     shares it, as a restarted worker on the same host does
   */
  public static StackEnvironment of(String temporalAddress, String ledgerUrl, Path workDir) {
    StackEnvironment env = new StackEnvironment();
    env.shared.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    env.shared.put("HOME", System.getProperty("user.home"));
    env.shared.put("TEMPORAL_ADDRESS", temporalAddress);
    env.shared.put("TEMPORAL_NAMESPACE", "default");
    env.shared.put("FERRY_TASK_QUEUE", "ferry");
    env.shared.put("FERRY_LEDGER_URL", ledgerUrl);
    env.shared.put("FERRY_PAYLOAD_KEY", PayloadEncryption.randomKey());
    // Signed approvals, as every deployment outside ./ferry dev will have them.
    env.shared.put("FERRY_APPROVAL_KEY", PayloadEncryption.randomKey());
    // The references the tests' runbooks name, and nothing else (read once secret references
    // have an allow-list).
    env.shared.put("FERRY_SECRET_REFS", "env:APP_*");

    // The host queue is named once, so that a restarted worker takes the restores of the
    // snapshots a dead one left in the shared work directory, as one on the same host does.
    env.workerOnly.put("FERRY_HOST_TASK_QUEUE", "ferry-host-process-test");
    env.workerOnly.put("FERRY_WORK_DIR", workDir.toString());
    env.workerOnly.put("FERRY_MAX_ACTIVITIES", "4");
    // A multi-phase run's cutover gate waits for the pre-verification's first pass; at the
    // default pace (a tenth of the wall clock) that is minutes on these tests' million-row table.
    env.workerOnly.put("FERRY_PREVERIFY_SHARE", "1");
    // Short, so that a dead worker's activity is retried within seconds (at least 5 s).
    return env.withHeartbeatTimeout(Duration.ofSeconds(5));
  }

  /** A variable for both (the references' URLs, so the API may check them too). */
  public StackEnvironment set(String name, String value) {
    shared.put(name, value);
    return this;
  }

  /** A variable for the worker only. */
  public StackEnvironment setForWorker(String name, String value) {
    workerOnly.put(name, value);
    return this;
  }

  /**
   * An app's source and target, which runbooks reach through {@link #sourceRef} and {@link
   * #targetRef}; several apps may share a stack.
   */
  public StackEnvironment withApp(String app, String sourceUrl, String targetUrl) {
    return set(variable(app, "SOURCE"), sourceUrl).set(variable(app, "TARGET"), targetUrl);
  }

  public String payloadKey() {
    return shared.get("FERRY_PAYLOAD_KEY");
  }

  public String temporalAddress() {
    return shared.get("TEMPORAL_ADDRESS");
  }

  public Path workDir() {
    return Path.of(workerOnly.get("FERRY_WORK_DIR"));
  }

  /** The heartbeat timeout the workers run with: how soon a dead worker's activity is retried. */
  public Duration heartbeatTimeout() {
    return heartbeatTimeout;
  }

  /** Another heartbeat timeout for the workers (at least 5 s, as the worker requires). */
  public StackEnvironment withHeartbeatTimeout(Duration timeout) {
    heartbeatTimeout = timeout;
    workerOnly.put("FERRY_HEARTBEAT_TIMEOUT", timeout.toSeconds() + "s");
    return this;
  }

  /** A worker's environment; its health endpoint on {@code healthPort}. */
  public Map<String, String> worker(int healthPort) {
    Map<String, String> env = new LinkedHashMap<>(shared);
    env.putAll(workerOnly);
    env.put("FERRY_WORKER_HEALTH_PORT", String.valueOf(healthPort));
    return env;
  }

  /** The API's environment (with {@code api/config/dev.yml}, which reads these). */
  public Map<String, String> api(int apiPort, int adminPort) {
    Map<String, String> env = new LinkedHashMap<>(shared);
    env.putAll(apiOnly);
    env.put("FERRY_API_PORT", String.valueOf(apiPort));
    env.put("FERRY_ADMIN_PORT", String.valueOf(adminPort));
    return env;
  }
}

package dev.ferry.worker;

import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.temporal.TemporalClientSecurity;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import java.util.ArrayList;
import java.util.List;
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
 *       {@link TemporalClientSecurity} reads them (default: plaintext);
 *   <li>{@code FERRY_LEDGER_URL}: the run ledger (postgres://…); unset, run events are not recorded;
 *   <li>{@code FERRY_PAYLOAD_KEY} (required unless {@code FERRY_PAYLOAD_KEY_REQUIRED=false}) and
 *       {@code FERRY_PAYLOAD_PREVIOUS_KEYS}: payload encryption, the same keys as the API's;
 *   <li>{@code FERRY_APPROVAL_KEY} and {@code FERRY_APPROVAL_PREVIOUS_KEYS}: verify signed approvals
 *       (required unless {@code FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal});
 *   <li>{@code FERRY_SECRET_REFS}: which runbook references this worker resolves ({@link
 *       SecretPolicy}; checked here so that a malformed list stops the worker at start).
 * </ul>
 */
public record WorkerSettings(
    String temporalAddress,
    String namespace,
    String taskQueue,
    String hostTaskQueue,
    Path workDir,
    int maxConcurrentActivities,
    TemporalClientSecurity security,
    String ledgerUrl,
    PayloadEncryption payloadEncryption,
    ApprovalKeys approvalKeys) {

  /** Settings for a plaintext connection (the embedded server, tests): no ledger, no encryption. */
  public WorkerSettings(
      String temporalAddress, String namespace, String taskQueue, String hostTaskQueue, Path workDir, int maxConcurrentActivities) {
    this(temporalAddress, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities, TemporalClientSecurity.plaintext(),
        null, null, ApprovalKeys.none());
  }

  /**
   * Settings of a worker against a Temporal server (a deployment): a payload key and an approval
   * key are required.
   *
   * @throws IllegalArgumentException naming every TLS or API key variable that is wrong, a
   *     missing or malformed payload or approval key, or a malformed FERRY_SECRET_REFS
   */
  public static WorkerSettings fromEnvironment(Map<String, String> env) {
    return fromEnvironment(env, true);
  }

  /**
   * @param deployment whether to refuse to run without {@code FERRY_PAYLOAD_KEY} (unless {@code
   *     FERRY_PAYLOAD_KEY_REQUIRED=false}) and without {@code FERRY_APPROVAL_KEY} (unless {@code
   *     FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal}); the embedded dev stack makes
   *     its own keys
   */
  public static WorkerSettings fromEnvironment(Map<String, String> env, boolean deployment) {
    boolean payloadKeyRequired = deployment;
    String taskQueue = env.getOrDefault("FERRY_TASK_QUEUE", "ferry");
    String payloadKey = blankToNull(env.get("FERRY_PAYLOAD_KEY"));
    PayloadEncryption encryption = null;
    if (payloadKey != null) {
      encryption = PayloadEncryption.of(payloadKey, env.getOrDefault("FERRY_PAYLOAD_PREVIOUS_KEYS", ""));
    } else if (payloadKeyRequired && !"false".equalsIgnoreCase(env.getOrDefault("FERRY_PAYLOAD_KEY_REQUIRED", "true").trim())) {
      throw new IllegalArgumentException(
          "FERRY_PAYLOAD_KEY is not set: Temporal's history would hold every payload in plain text. Set it to base64 of 32"
              + " random bytes (openssl rand -base64 32), the same for the API and every worker, or set"
              + " FERRY_PAYLOAD_KEY_REQUIRED=false to run without");
    }
    List<byte[]> approvalKeys = new ArrayList<>();
    String approvalKey = blankToNull(env.get("FERRY_APPROVAL_KEY"));
    if (deployment) {
      String refusal = ApprovalKeys.deploymentRefusal(approvalKey != null, env.get(ApprovalKeys.UNSIGNED_VARIABLE), "FERRY_APPROVAL_KEY");
      if (refusal != null) {
        throw new IllegalArgumentException(refusal);
      }
    }
    SecretPolicy.fromEnvironment(env);
    if (approvalKey != null) {
      approvalKeys.add(ApprovalSignature.decodeKey(approvalKey));
      for (String previous : env.getOrDefault("FERRY_APPROVAL_PREVIOUS_KEYS", "").split(",")) {
        if (!previous.isBlank()) {
          approvalKeys.add(ApprovalSignature.decodeKey(previous));
        }
      }
    }
    return new WorkerSettings(
        env.getOrDefault("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
        env.getOrDefault("TEMPORAL_NAMESPACE", "default"),
        taskQueue,
        env.getOrDefault("FERRY_HOST_TASK_QUEUE", taskQueue + "-host-" + hostname()),
        Path.of(env.getOrDefault("FERRY_WORK_DIR", Path.of(System.getProperty("user.home"), ".ferry", "work").toString())),
        Integer.parseInt(env.getOrDefault("FERRY_MAX_ACTIVITIES", "4")),
        TemporalClientSecurity.fromEnvironment(env),
        blankToNull(env.get("FERRY_LEDGER_URL")),
        encryption,
        approvalKeys.isEmpty() ? ApprovalKeys.none() : ApprovalKeys.of(approvalKeys));
  }

  /** The same settings against the embedded server, which speaks plaintext on loopback. */
  public WorkerSettings withTemporalAddress(String address) {
    return new WorkerSettings(address, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities,
        TemporalClientSecurity.plaintext(), ledgerUrl, payloadEncryption, approvalKeys);
  }

  /** The same settings with these approval keys (the embedded stack's, when none were given). */
  public WorkerSettings withApprovalKeys(ApprovalKeys keys) {
    return new WorkerSettings(temporalAddress, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities,
        security, ledgerUrl, payloadEncryption, keys);
  }

  /** The same settings with this ledger and this payload encryption (the embedded stack's). */
  public WorkerSettings withLedgerAndEncryption(String ledger, PayloadEncryption encryption) {
    return new WorkerSettings(temporalAddress, namespace, taskQueue, hostTaskQueue, workDir, maxConcurrentActivities,
        security, ledger, encryption, approvalKeys);
  }

  /** Never a key or the ledger's password. */
  @Override
  public String toString() {
    return "WorkerSettings[temporal=" + temporalAddress + ", namespace=" + namespace + ", taskQueue=" + taskQueue
        + ", hostTaskQueue=" + hostTaskQueue + ", workDir=" + workDir + ", maxConcurrentActivities=" + maxConcurrentActivities
        + ", " + security + ", ledger " + (ledgerUrl == null ? "none" : "set") + ", "
        + (payloadEncryption == null ? "payloads NOT encrypted" : payloadEncryption) + ", " + approvalKeys + "]";
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
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

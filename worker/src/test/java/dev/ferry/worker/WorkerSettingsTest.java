package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.runbook.SecretRef;
import java.util.List;
import dev.ferry.activities.postgres.FenceKeys;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerSettingsTest {
  @TempDir Path dir;

  @Test
  void defaults_arePlaintextToTheLocalServer() {
    WorkerSettings settings = WorkerSettings.fromEnvironment(plain("FERRY_HOST_TASK_QUEUE", "ferry-host-a"));

    assertThat(settings.temporalAddress()).isEqualTo("127.0.0.1:7233");
    assertThat(settings.namespace()).isEqualTo("default");
    assertThat(settings.taskQueue()).isEqualTo("ferry");
    assertThat(settings.security().usesTls()).isFalse();
  }

  @Test
  void temporalCloud_mutualTlsAndApiKey_comeFromTheVariablesTemporalsCliReads() throws Exception {
    Path cert = Files.writeString(dir.resolve("client.pem"), "not parsed until the worker connects");
    Path key = Files.writeString(dir.resolve("client.key"), "not parsed until the worker connects");

    WorkerSettings settings =
        WorkerSettings.fromEnvironment(
            plain(
                "TEMPORAL_ADDRESS", "ferry.a1b2c.tmprl.cloud:7233",
                "TEMPORAL_NAMESPACE", "ferry.a1b2c",
                "TEMPORAL_TLS_CLIENT_CERT_PATH", cert.toString(),
                "TEMPORAL_TLS_CLIENT_KEY_PATH", key.toString(),
                "TEMPORAL_API_KEY", "tk-secret"));

    assertThat(settings.security().usesTls()).isTrue();
    assertThat(settings.security().hasClientCertificate()).isTrue();
    assertThat(settings.security().hasApiKey()).isTrue();
    assertThat(settings.toString()).doesNotContain("tk-secret");
  }

  @Test
  void aMissingKeyFile_stopsTheWorkerBeforeItConnects_namingTheVariable() {
    assertThatThrownBy(
            () -> WorkerSettings.fromEnvironment(
                plain(
                    "TEMPORAL_TLS_CLIENT_CERT_PATH", dir.resolve("absent.pem").toString(),
                    "TEMPORAL_TLS_CLIENT_KEY_PATH", dir.resolve("absent.key").toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TEMPORAL_TLS_CLIENT_CERT_PATH: ")
        .hasMessageContaining("TEMPORAL_TLS_CLIENT_KEY_PATH: ");
  }

  @Test
  void theEmbeddedServer_isAlwaysPlaintext() {
    WorkerSettings cloud = WorkerSettings.fromEnvironment(plain("TEMPORAL_TLS", "true"));

    assertThat(cloud.withTemporalAddress("127.0.0.1:7299").security().usesTls()).isFalse();
  }

  @Test
  void withoutAPayloadKey_theWorkerRefusesToStart_unlessToldItMay() {
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FERRY_PAYLOAD_KEY is not set");
    assertThat(WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY_REQUIRED", "false", "FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal")).payloadEncryption()).isNull();
    assertThat(WorkerSettings.fromEnvironment(Map.of(), false).payloadEncryption()).isNull();
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", "c2hvcnQ=")))
        .hasMessageContaining("32 bytes");
  }

  @Test
  void withoutAnApprovalKey_aDeployedWorkerRefusesToStart_unlessTheOperatorSaysWhoCanThenApprove() {
    Map<String, String> env = new java.util.HashMap<>(Map.of("FERRY_PAYLOAD_KEY", PayloadEncryption.randomKey()));

    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(env))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("FERRY_APPROVAL_KEY is not set")
        .hasMessageContaining("FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal");

    env.put("FERRY_APPROVALS_UNSIGNED", "yes");
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(env))
        .hasMessageStartingWith("FERRY_APPROVALS_UNSIGNED must be exactly anyone-who-can-reach-temporal");

    env.put("FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal");
    assertThat(WorkerSettings.fromEnvironment(env).approvalKeys().required()).isFalse();

    env.put("FERRY_APPROVAL_KEY", PayloadEncryption.randomKey());
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(env)).hasMessageContaining("are both set");

    env.remove("FERRY_APPROVALS_UNSIGNED");
    assertThat(WorkerSettings.fromEnvironment(env).approvalKeys().required()).isTrue();
    // The embedded dev stack is no deployment: it makes a key of its own when none is given.
    assertThat(WorkerSettings.fromEnvironment(Map.of(), false).approvalKeys().required()).isFalse();
  }

  @Test
  void aMalformedSecretAllowList_stopsTheWorkerAtStart() {
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(plain("FERRY_SECRET_REFS", "env:HEROKU_*,env:FERRY_LEDGER_URL")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FERRY_SECRET_REFS: env:FERRY_LEDGER_URL is one of Ferry's own settings");
  }

  @Test
  void theDefaultAllowList_coversEveryReferenceTheDevStackAndTheDemoUse() throws Exception {
    Path root = Path.of(System.getProperty("ferry.repoRoot", ".."));
    SecretPolicy defaults = SecretPolicy.fromEnvironment(Map.of());

    var runbook = RunbookParser.parse(Files.readString(root.resolve("worker/dev/demo-runbook.yml")));
    assertThat(defaults.allows(SecretRef.parse(runbook.source().databaseUrl()))).isTrue();
    assertThat(defaults.allows(SecretRef.parse(runbook.target().databaseUrl()))).isTrue();
    // Every variable the ferry script sets for the stack's runbooks.
    java.util.regex.Matcher set = java.util.regex.Pattern.compile("(?m)^\\s*([A-Z][A-Z0-9_]*_URL)=").matcher(Files.readString(root.resolve("ferry")));
    List<String> names = new java.util.ArrayList<>();
    while (set.find()) {
      if (!set.group(1).startsWith("FERRY_")) {
        names.add(set.group(1));
      }
    }
    assertThat(names).isNotEmpty().allSatisfy(name -> assertThat(defaults.allows(SecretRef.parse("env:" + name))).as(name).isTrue());
  }

  @Test
  void keysAndTheLedger_comeFromTheEnvironment_andNoneOfThemIsPrinted() {
    String payloadKey = PayloadEncryption.randomKey();
    String approvalKey = PayloadEncryption.randomKey();
    WorkerSettings settings =
        WorkerSettings.fromEnvironment(
            Map.of(
                "FERRY_PAYLOAD_KEY", payloadKey,
                "FERRY_APPROVAL_KEY", approvalKey,
                "FERRY_LEDGER_URL", "postgres://ferry:ledger-secret@db:5432/ferry"));

    assertThat(settings.payloadEncryption()).isNotNull();
    assertThat(settings.approvalKeys().required()).isTrue();
    assertThat(settings.ledgerUrl()).endsWith("@db:5432/ferry");
    assertThat(settings.toString()).doesNotContain(payloadKey, approvalKey, "ledger-secret").contains("payloads encrypted");
  }

    @Test
  void theWriteFencesKeys_comeFromThePayloadKey_soEveryWorkerAndEveryRestartAgree_andARotationKeepsTheOldOnesOpen() {
    String key = PayloadEncryption.randomKey();
    String next = PayloadEncryption.randomKey();
    String run = "migration-shop-1a2b3c4d";
    FenceKeys one = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(plain("FERRY_PAYLOAD_KEY", key)));
    FenceKeys another = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(plain("FERRY_PAYLOAD_KEY", key)));
    FenceKeys rotated = FerryWorker.fenceKeys(
        WorkerSettings.fromEnvironment(plain("FERRY_PAYLOAD_KEY", next, "FERRY_PAYLOAD_PREVIOUS_KEYS", key)));
    FenceKeys elsewhere = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(plain("FERRY_PAYLOAD_KEY", next)));

    assertThat(another.fenceDigest(run)).isEqualTo(one.fenceDigest(run)).isNotEqualTo(one.fenceDigest("migration-shop-other"));
    assertThat(rotated.opens(one.fenceDigest(run), run)).isTrue();
    assertThat(elsewhere.opens(one.fenceDigest(run), run)).isFalse();
    assertThat(one.isEphemeral()).isFalse();
    assertThat(one.toString()).doesNotContain(key);
    assertThat(FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(plain())).isEphemeral()).isTrue();
  }

  /** Settings without a payload or approval key (these tests are about other variables). */
  private static Map<String, String> plain(String... pairs) {
    Map<String, String> env = new java.util.HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    env.put("FERRY_PAYLOAD_KEY_REQUIRED", "false");
    env.put("FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal");
    return env;
  }
}

package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.ferry.activities.postgres.FenceKeys;
import dev.ferry.api.temporal.PayloadEncryption;
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
    assertThat(WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY_REQUIRED", "false")).payloadEncryption()).isNull();
    assertThat(WorkerSettings.fromEnvironment(Map.of(), false).payloadEncryption()).isNull();
    assertThatThrownBy(() -> WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", "c2hvcnQ=")))
        .hasMessageContaining("32 bytes");
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

  /** Settings without a payload key (these tests are about other variables). */
  @Test
  void theWriteFencesKeys_comeFromThePayloadKey_soEveryWorkerAndEveryRestartAgree_andARotationKeepsTheOldOnesOpen() {
    String key = PayloadEncryption.randomKey();
    String next = PayloadEncryption.randomKey();
    String run = "migration-shop-1a2b3c4d";
    FenceKeys one = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", key)));
    FenceKeys another = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", key)));
    FenceKeys rotated = FerryWorker.fenceKeys(
        WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", next, "FERRY_PAYLOAD_PREVIOUS_KEYS", key)));
    FenceKeys elsewhere = FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(Map.of("FERRY_PAYLOAD_KEY", next)));

    assertThat(another.fenceDigest(run)).isEqualTo(one.fenceDigest(run)).isNotEqualTo(one.fenceDigest("migration-shop-other"));
    assertThat(rotated.opens(one.fenceDigest(run), run)).isTrue();
    assertThat(elsewhere.opens(one.fenceDigest(run), run)).isFalse();
    assertThat(one.isEphemeral()).isFalse();
    assertThat(one.toString()).doesNotContain(key);
    assertThat(FerryWorker.fenceKeys(WorkerSettings.fromEnvironment(plain())).isEphemeral()).isTrue();
  }

  private static Map<String, String> plain(String... pairs) {
    Map<String, String> env = new java.util.HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    env.put("FERRY_PAYLOAD_KEY_REQUIRED", "false");
    return env;
  }
}

package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerSettingsTest {
  @TempDir Path dir;

  @Test
  void defaults_arePlaintextToTheLocalServer() {
    WorkerSettings settings = WorkerSettings.fromEnvironment(Map.of("FERRY_HOST_TASK_QUEUE", "ferry-host-a"));

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
            Map.of(
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
                Map.of(
                    "TEMPORAL_TLS_CLIENT_CERT_PATH", dir.resolve("absent.pem").toString(),
                    "TEMPORAL_TLS_CLIENT_KEY_PATH", dir.resolve("absent.key").toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TEMPORAL_TLS_CLIENT_CERT_PATH: ")
        .hasMessageContaining("TEMPORAL_TLS_CLIENT_KEY_PATH: ");
  }

  @Test
  void theEmbeddedServer_isAlwaysPlaintext() {
    WorkerSettings cloud = WorkerSettings.fromEnvironment(Map.of("TEMPORAL_TLS", "true"));

    assertThat(cloud.withTemporalAddress("127.0.0.1:7299").security().usesTls()).isFalse();
  }
}

package dev.ferry.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.auth.TokenHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the deployment files without a Docker engine: the services and their
 * start-up order, what is published where, that every file the compose file mounts and the
 * Dockerfile copies exists, and that no published dev token ships. (./ferry test also runs
 * `docker-compose config` on the file: deploy/check-compose.sh.)
 */
class DeploymentFilesTest {
  static final Path ROOT = Path.of(System.getProperty("ferry.repoRoot", ".."));
  static ComposeFile compose;
  static Dockerfile dockerfile;

  @BeforeAll
  static void read() throws IOException {
    compose = ComposeFile.read(ComposeFile.path(), ComposeFile.readEnvFile(ROOT.resolve("deploy/env.example")));
    dockerfile = Dockerfile.read(Dockerfile.path());
  }

  @Test
  void composeRunsTemporalItsUiPostgresqlAndFerrysWorkerAndApi_fromOfficialImages() {
    assertThat(compose.serviceNames())
        .containsExactlyInAnyOrder("postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "worker", "api");
    assertThat(image("postgresql")).startsWith("postgres:");
    assertThat(image("temporal")).startsWith("temporalio/server:");
    assertThat(image("temporal-schema")).startsWith("temporalio/admin-tools:");
    assertThat(image("temporal-setup")).startsWith("temporalio/admin-tools:");
    assertThat(image("temporal-ui")).startsWith("temporalio/ui:");
    assertThat(compose.service("worker").path("build").path("target").asText()).isEqualTo("worker");
    assertThat(compose.service("api").path("build").path("target").asText()).isEqualTo("api");
  }

  @Test
  void everythingStartsInOrder_afterWhatItNeedsIsHealthyOrDone() {
    assertThat(dependsOn("temporal-schema")).isEqualTo(Map.of("postgresql", "service_healthy"));
    assertThat(dependsOn("temporal")).isEqualTo(Map.of("temporal-schema", "service_completed_successfully"));
    assertThat(dependsOn("temporal-setup")).isEqualTo(Map.of("temporal", "service_healthy"));
    assertThat(dependsOn("temporal-ui")).isEqualTo(Map.of("temporal", "service_healthy"));
    assertThat(dependsOn("worker")).isEqualTo(Map.of("temporal-setup", "service_completed_successfully"));
    // The API migrates the ledger's schema as it starts: PostgreSQL must be up.
    assertThat(dependsOn("api"))
        .isEqualTo(Map.of("temporal-setup", "service_completed_successfully", "postgresql", "service_healthy"));
    for (String service : List.of("postgresql", "temporal", "worker", "api")) {
      assertThat(compose.service(service).path("healthcheck").path("test").isArray()).as(service + " has a health check").isTrue();
    }
    assertThat(compose.service("api").path("healthcheck").path("test").toString()).contains("http://127.0.0.1:8081/healthcheck");
    assertThat(compose.service("worker").path("healthcheck").path("test").toString()).contains("http://127.0.0.1:8091/health");
    assertThat(compose.environment("worker")).containsEntry("FERRY_WORKER_HEALTH_PORT", "8091");
  }

  @Test
  void workerAndApi_shareTheLedgerAndThePayloadKey() {
    for (String key : List.of("FERRY_LEDGER_URL", "FERRY_PAYLOAD_KEY", "FERRY_APPROVAL_KEY", "FERRY_APPROVALS_UNSIGNED")) {
      assertThat(compose.environment("worker").get(key)).as(key).isEqualTo(compose.environment("api").get(key));
    }
    assertThat(compose.environment("api").get("FERRY_LEDGER_URL")).startsWith("postgres://ferry:").endsWith("@postgresql:5432/ferry");
  }

  @Test
  void approvalsAreSignedByDefault_andTheWorkerResolvesOnlyTheReferencesEnvSays() throws IOException {
    // env.example asks for a key (a placeholder that starts nothing) and does not opt out.
    assertThat(compose.environment("worker").get("FERRY_APPROVAL_KEY")).startsWith("REPLACE-WITH");
    assertThat(compose.environment("worker").get("FERRY_APPROVALS_UNSIGNED")).isEmpty();
    assertThat(Files.readString(ROOT.resolve("deploy/env.example"))).doesNotContainPattern("(?m)^FERRY_APPROVALS_UNSIGNED=");
    // The allow-list comes from .env, and Compose refuses to start without it.
    assertThat(compose.environment("worker").get("FERRY_SECRET_REFS")).isEqualTo(ComposeFile.readEnvFile(ROOT.resolve("deploy/env.example")).get("FERRY_SECRET_REFS"));
    assertThat(compose.service("worker").path("environment").path("FERRY_SECRET_REFS").asText()).startsWith("${FERRY_SECRET_REFS:?");
    assertThat(compose.environment("api")).doesNotContainKey("FERRY_SECRET_REFS");
  }

  @Test
  void theApiIsOn8080_theUiOn8233_bothOnLoopbackUnlessToldOtherwise() {
    assertThat(ports("api")).containsExactly("127.0.0.1:8080:8080");
    assertThat(ports("temporal-ui")).containsExactly("127.0.0.1:8233:8080");
    assertThat(ports("temporal")).containsExactly("127.0.0.1:7233:7233");
    assertThat(compose.environment("api")).containsEntry("FERRY_API_PORT", "8080").containsEntry("FERRY_ADMIN_HOST", "127.0.0.1");
    assertThat(compose.environment("temporal-ui")).containsEntry("TEMPORAL_DISABLE_WRITE_ACTIONS", "true");
  }

  @Test
  void theUiDecodesThroughTheApisCodec_withTheSignInCookie_andTheApiAllowsExactlyThatUi() {
    Map<String, String> ui = compose.environment("temporal-ui");
    // The codec as the browser reaches it: the API's published port on the same loopback name.
    assertThat(ui).containsEntry("TEMPORAL_CODEC_ENDPOINT", "http://127.0.0.1:8080/codec")
        .containsEntry("TEMPORAL_CODEC_INCLUDE_CREDENTIALS", "true")
        .containsEntry("TEMPORAL_CODEC_PASS_ACCESS_TOKEN", "false")
        .containsEntry("TEMPORAL_CODEC_DEFAULT_ERROR_LINK", "http://127.0.0.1:8080/codec");
    assertThat(ports("api")).containsExactly("127.0.0.1:8080:8080");
    // The UI's origin as the browser has it, from its published port.
    assertThat(ports("temporal-ui")).containsExactly("127.0.0.1:8233:8080");
    assertThat(compose.environment("api")).containsEntry("FERRY_CODEC_ORIGINS", "http://127.0.0.1:8233");
    // UI 2.42, the version the dev server bundles and the browser test drives.
    assertThat(image("temporal-ui")).isEqualTo("temporalio/ui:2.42.1");
  }

  @Test
  void theSetUpRegistersFerrysSearchAttributes_asKeywords() throws IOException {
    String setup = Files.readString(ROOT.resolve("deploy/temporal/setup-namespace.sh"));

    assertThat(setup).contains("for attribute in FerryApp FerryKind FerryStrategy FerryPhase; do").contains("--type Keyword");
    // The workflows' own list (RunSearchAttributes), and ./ferry dev's, are the same four.
    String names = String.join(" ", dev.ferry.model.RunSearchAttributes.ALL.stream().map(k -> k.getName()).toList());
    assertThat(setup).contains("for attribute in " + names + "; do");
    assertThat(Files.readString(ROOT.resolve("ferry"))).contains("FERRY_SEARCH_ATTRIBUTES=(" + names + ")");
    assertThat(compose.service("temporal-setup").path("entrypoint").toString()).contains("/ferry/setup-namespace.sh");
  }

  @Test
  void everyFileTheComposeFileMounts_exists() {
    List<String> missing = new ArrayList<>();
    for (String service : compose.serviceNames()) {
      for (JsonNode volume : compose.service(service).path("volumes")) {
        String source = volume.asText().split(":")[0];
        if (source.startsWith("./") && !Files.exists(ROOT.resolve(source))) {
          missing.add(service + ": " + source);
        }
      }
    }
    assertThat(missing).isEmpty();
  }

  @Test
  void everyFileTheDockerfileCopies_existsOrIsAJarTheBuildMakes() throws IOException {
    List<String> missing = new ArrayList<>();
    for (Dockerfile.Stage stage : dockerfile.stages()) {
      for (Dockerfile.Copy copy : stage.copies()) {
        if (copy.fromBuild()) {
          // <module>/target/<finalName>.jar, as the module's shade plugin names it.
          String[] parts = copy.source().split("/");
          String pom = Files.readString(ROOT.resolve(parts[0]).resolve("pom.xml"));
          if (!pom.contains("<finalName>" + parts[2].replace(".jar", "") + "</finalName>")) {
            missing.add(stage.name() + ": " + copy.source() + " (no module builds it)");
          }
        } else if (!Files.exists(ROOT.resolve(copy.source()))) {
          missing.add(stage.name() + ": " + copy.source());
        }
      }
    }
    assertThat(missing).isEmpty();
    assertThat(dockerfile.stage("api").copies())
        .extracting(Dockerfile.Copy::source)
        .containsExactly("api/target/ferry-api.jar", "api/config/ferry.yml");
    assertThat(dockerfile.stage("worker").copies()).extracting(Dockerfile.Copy::source).containsExactly("worker/target/ferry-worker.jar");
    assertThat(dockerfile.stage("build").copies()).extracting(Dockerfile.Copy::source).contains("pom.xml", "worker/src", "api/src");
    assertThat(dockerfile.stage("worker").command()).containsExactly("java", "-jar", "/opt/ferry/ferry-worker.jar", "worker");
    assertThat(dockerfile.stage("api").command())
        .containsExactly("java", "-jar", "/opt/ferry/ferry-api.jar", "server", "/opt/ferry/config/ferry.yml");
  }

  @Test
  void theDockerBuildContextKeepsSecretsAndBuildOutputOut() throws IOException {
    assertThat(Files.readAllLines(ROOT.resolve(".dockerignore"))).contains(".env", "**/target/", ".git/");
    assertThat(Files.readAllLines(ROOT.resolve(".gitignore"))).contains(".env");
  }

  @Test
  void noPublishedDevTokenShips_inTheComposeFileTheApiConfigOrTheExampleEnv() throws IOException {
    List<String> devHashes =
        List.of("ferry-dev-operator", "ferry-dev-approver", "ferry-dev-viewer").stream().map(TokenHash::sha256Hex).toList();
    for (String file : List.of("docker-compose.yml", "deploy/env.example", "api/config/ferry.yml")) {
      String text = Files.readString(ROOT.resolve(file));
      assertThat(devHashes).as(file).noneMatch(text::contains);
      assertThat(text).as(file).doesNotContain("ferry-dev-");
    }
  }

  private static String image(String service) {
    return compose.interpolate(compose.service(service).path("image").asText());
  }

  private static Map<String, String> dependsOn(String service) {
    Map<String, String> conditions = new java.util.TreeMap<>();
    compose.service(service).path("depends_on").fields()
        .forEachRemaining(e -> conditions.put(e.getKey(), e.getValue().path("condition").asText()));
    return conditions;
  }

  private static List<String> ports(String service) {
    List<String> ports = new ArrayList<>();
    compose.service(service).path("ports").forEach(p -> ports.add(compose.interpolate(p.asText())));
    return ports;
  }
}

package dev.ferry.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.temporal.PayloadEncryption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.text.StringSubstitutor;
import org.junit.jupiter.api.Test;

/**
 * The approvals section of the configurations as they ship, with ${VAR:-default} filled from a
 * given environment as Dropwizard fills it from the process's: api/config/ferry.yml (deployments)
 * refuses to start without a key unless the operator opts out in writing; dev.yml does not.
 */
class ApprovalSettingsTest {
  static final Path CONFIG = Path.of(System.getProperty("ferry.repoRoot", "..")).resolve("api/config");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void ferryYml_withoutAKey_refusesToStart_namingTheKeyAndTheOptOut() throws Exception {
    assertThatThrownBy(() -> approvals("ferry.yml", Map.of()).keys())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("approvals.signingKey (FERRY_APPROVAL_KEY) is not set")
        .hasMessageContaining("FERRY_APPROVALS_UNSIGNED=anyone-who-can-reach-temporal");
    assertThatThrownBy(() -> approvals("ferry.yml", Map.of("FERRY_APPROVALS_UNSIGNED", "true")).keys())
        .hasMessageStartingWith("FERRY_APPROVALS_UNSIGNED must be exactly anyone-who-can-reach-temporal");
  }

  @Test
  void ferryYml_signsWithTheKey_orRunsUnsignedOnlyWhenTheOperatorSaysWhoCanThenApprove() throws Exception {
    assertThat(approvals("ferry.yml", Map.of("FERRY_APPROVAL_KEY", PayloadEncryption.randomKey())).keys().required()).isTrue();
    assertThat(approvals("ferry.yml", Map.of("FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal")).keys().required()).isFalse();
    assertThatThrownBy(
            () -> approvals("ferry.yml", Map.of("FERRY_APPROVAL_KEY", PayloadEncryption.randomKey(), "FERRY_APPROVALS_UNSIGNED", "anyone-who-can-reach-temporal")).keys())
        .hasMessageContaining("are both set");
  }

  @Test
  void devYml_takesTheKeyTheDevStackHandsIt_andStartsWithoutOne() throws Exception {
    assertThat(approvals("dev.yml", Map.of()).keys().required()).isFalse();
    assertThat(approvals("dev.yml", Map.of("FERRY_APPROVAL_KEY", PayloadEncryption.randomKey())).keys().required()).isTrue();
  }

  private static ApprovalSettings approvals(String file, Map<String, String> environment) throws Exception {
    Map<String, String> env = new HashMap<>(environment);
    String text = new StringSubstitutor(env).setEnableUndefinedVariableException(false).replace(Files.readString(CONFIG.resolve(file)));
    return YAML.treeToValue(YAML.readTree(text).path("approvals"), ApprovalSettings.class);
  }
}

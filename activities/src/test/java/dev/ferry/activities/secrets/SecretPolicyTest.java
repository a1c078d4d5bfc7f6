package dev.ferry.activities.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.runbook.SecretRef;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretPolicyTest {

  @Test
  void globs_matchEnvNamesAndSsmPathsAcrossSegments_likeIamPolicies() {
    SecretPolicy policy = SecretPolicy.of("env:HEROKU_*, ssm:/apps/*, env:RDS_DATABASE_UR?");

    assertThat(allows(policy, "env:HEROKU_DATABASE_URL")).isTrue();
    assertThat(allows(policy, "env:HEROKU_API_KEY")).isTrue();
    assertThat(allows(policy, "env:RDS_DATABASE_URL")).isTrue();
    assertThat(allows(policy, "ssm:/apps/shop/DATABASE_URL")).isTrue();
    assertThat(allows(policy, "ssm:/apps/DATABASE_URL")).isTrue();

    assertThat(allows(policy, "env:HEROKU")).isFalse();
    assertThat(allows(policy, "env:MY_HEROKU_URL")).isFalse();
    assertThat(allows(policy, "env:RDS_DATABASE_URLS")).isFalse();
    assertThat(allows(policy, "ssm:/apps2/shop/DATABASE_URL")).isFalse();
    assertThat(allows(policy, "ssm:/ferry/apps/x")).isFalse();
    // A glob of one scheme never allows the other.
    assertThat(allows(SecretPolicy.of("env:*"), "ssm:/apps/x")).isFalse();
  }

  @Test
  void ferrysOwnSettings_areOutsideEveryList() {
    SecretPolicy everything = SecretPolicy.of("env:*,ssm:*");

    for (String own : new String[] {"FERRY_LEDGER_URL", "FERRY_PAYLOAD_KEY", "FERRY_APPROVAL_KEY", "AWS_SECRET_ACCESS_KEY",
        "TEMPORAL_API_KEY", "PGPASSWORD", "PGSERVICEFILE", "JAVA_TOOL_OPTIONS", "HOSTNAME", "Ferry_Ledger_Url"}) {
      assertThat(everything.allows(new SecretRef(SecretRef.Scheme.ENV, own))).as(own).isFalse();
    }
    assertThat(allows(everything, "env:SHOP_DATABASE_URL")).isTrue();
  }

  @Test
  void unset_theDefaultIsExactlyTheDevStacksAndTestSuitesReferences() {
    SecretPolicy policy = SecretPolicy.fromEnvironment(Map.of());

    assertThat(policy.isDefault()).isTrue();
    for (String ref : new String[] {"env:SHOP_SOURCE_URL", "env:SHOP_TARGET_URL", "env:SHOP_SYNC_SOURCE_URL",
        "env:SHOP_SYNC_TARGET_URL", "env:SHOP_UNREACHABLE_URL", "env:SHOP_WEBHOOK_URL"}) {
      assertThat(allows(policy, ref)).as(ref).isTrue();
    }
    assertThat(allows(policy, "env:SHOP_OTHER_URL")).isFalse();
    assertThat(allows(policy, "env:HEROKU_DATABASE_URL")).isFalse();
    assertThat(allows(policy, "ssm:/shop/DATABASE_URL")).isFalse();
    assertThat(SecretPolicy.fromEnvironment(Map.of("FERRY_SECRET_REFS", " ")).isDefault()).isTrue();
    assertThat(policy.toString()).startsWith("FERRY_SECRET_REFS unset");
  }

  @Test
  void aMalformedList_isRefusedAtStart_namingEveryBadEntry() {
    assertThatThrownBy(() -> SecretPolicy.fromEnvironment(Map.of("FERRY_SECRET_REFS", "HEROKU_*,env:FERRY_LEDGER_URL,vault:/x,env:OK_*")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("FERRY_SECRET_REFS: ")
        .hasMessageContaining("HEROKU_* is not env:<name glob> or ssm:<path glob>")
        .hasMessageContaining("env:FERRY_LEDGER_URL is one of Ferry's own settings")
        .hasMessageContaining("vault:/x is not")
        .hasMessageNotContaining("env:OK_*");
  }

  private static boolean allows(SecretPolicy policy, String reference) {
    return policy.allows(SecretRef.parse(reference));
  }
}

package dev.ferry.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApprovalSignatureTest {
  static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  static final byte[] OTHER = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII);
  static final Instant AT = Instant.parse("2026-11-22T10:15:30Z");
  static final GateDecision APPROVE = new GateDecision("start", Verdict.APPROVE, "arjun", "looks good");

  @Test
  void aSignedDecision_verifiesForItsRunOnly() {
    GateDecision signed = ApprovalSignature.signed(KEY, "migration-shop-1", APPROVE, null, AT);

    assertThat(signed.signature()).startsWith("v1:" + ApprovalSignature.keyId(KEY) + ":");
    assertThat(ApprovalSignature.verify(List.of(KEY), "migration-shop-1", signed, null)).isTrue();
    assertThat(ApprovalSignature.verify(List.of(KEY), "migration-shop-2", signed, null)).isFalse();
  }

  @Test
  void changingAnyField_breaksTheSignature() {
    GateDecision signed = ApprovalSignature.signed(KEY, "r", APPROVE, "sha256:abc", AT);
    String sig = signed.signature();

    List<GateDecision> forged =
        List.of(
            new GateDecision("cutover", Verdict.APPROVE, "arjun", "looks good", null, sig, AT),
            new GateDecision("start", Verdict.REJECT, "arjun", "looks good", null, sig, AT),
            new GateDecision("start", Verdict.APPROVE, "mallory", "looks good", null, sig, AT),
            new GateDecision("start", Verdict.APPROVE, "arjun", "looks good!", null, sig, AT),
            new GateDecision("start", Verdict.APPROVE, "arjun", null, null, sig, AT),
            new GateDecision("start", Verdict.APPROVE, "arjun", "looks good", null, sig, AT.plusSeconds(1)),
            new GateDecision("start", Verdict.APPROVE, "arjun", "looks good", null, null, AT));

    assertThat(forged).allSatisfy(d -> assertThat(ApprovalSignature.verify(List.of(KEY), "r", d, "sha256:abc")).as(d.toString()).isFalse());
    assertThat(ApprovalSignature.verify(List.of(KEY), "r", signed, "sha256:other")).isFalse();
    assertThat(ApprovalSignature.verify(List.of(KEY), "r", signed, "sha256:abc")).isTrue();
  }

  @Test
  void anotherKey_orGarbage_doesNotVerify_butAPreviousKeyStillDoes() {
    GateDecision signed = ApprovalSignature.signed(OTHER, "r", APPROVE, null, AT);

    assertThat(ApprovalSignature.verify(List.of(KEY), "r", signed, null)).isFalse();
    assertThat(ApprovalSignature.verify(List.of(KEY, OTHER), "r", signed, null)).isTrue();
    for (String garbage : List.of("", "v1", "v1::", "v2:x:y", "v1:" + ApprovalSignature.keyId(KEY) + ":%%%")) {
      GateDecision d = new GateDecision("start", Verdict.APPROVE, "arjun", "looks good", null, garbage, AT);
      assertThat(ApprovalSignature.verify(List.of(KEY), "r", d, null)).as(garbage).isFalse();
    }
  }

  @Test
  void approvalKeys_acceptUnsignedOnlyWhenNoKeyIsSet() {
    assertThat(ApprovalKeys.none().accepts("r", APPROVE, null)).isTrue();
    ApprovalKeys keys = ApprovalKeys.of(List.of(KEY));

    assertThat(keys.accepts("r", APPROVE, null)).isFalse();
    assertThat(keys.accepts("r", keys.sign("r", APPROVE, null, AT), null)).isTrue();
    assertThat(keys.toString()).doesNotContain("0123456789abcdef").contains(ApprovalSignature.keyId(KEY));
  }

  @Test
  void shortOrNonBase64Keys_areRefused() {
    assertThatThrownBy(() -> ApprovalSignature.decodeKey("c2hvcnQ=")).hasMessageContaining("at least 32 bytes");
    assertThatThrownBy(() -> ApprovalSignature.decodeKey("not base64!")).hasMessageContaining("base64");
    assertThat(ApprovalSignature.decodeKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")).isEqualTo(KEY);
  }
}

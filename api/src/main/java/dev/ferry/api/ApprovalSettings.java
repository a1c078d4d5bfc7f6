package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import java.util.List;

/**
 * Signed approvals. With a signing key (base64 of at least 32 random bytes, the same {@code
 * FERRY_APPROVAL_KEY} the workers verify with), the API signs every decision it sends, and
 * workers holding the key refuse decisions that are not signed: a signal sent straight to
 * Temporal cannot open a gate.
 *
 * <p>With {@code requireSigningKey} (the default; {@code api/config/ferry.yml}) the API refuses
 * to start without a key unless {@code unsigned} is {@value ApprovalKeys#UNSIGNED_CONSENT}
 * ({@code FERRY_APPROVALS_UNSIGNED}), which it then logs loudly. The dev configuration makes the
 * key optional: {@code ./ferry dev} hands it one.
 */
public class ApprovalSettings {
  /** A secret: take it from the environment, never write it here. */
  @JsonProperty private String signingKey = "";

  /** {@value ApprovalKeys#UNSIGNED_CONSENT} to run without a key where one is required. */
  @JsonProperty private String unsigned = "";

  @JsonProperty private boolean requireSigningKey = true;

  /** @throws IllegalArgumentException when the key is malformed, or required and missing without the opt-out */
  public ApprovalKeys keys() {
    boolean keySet = signingKey != null && !signingKey.isBlank();
    if (requireSigningKey) {
      String refusal = ApprovalKeys.deploymentRefusal(keySet, unsigned, "approvals.signingKey (FERRY_APPROVAL_KEY)");
      if (refusal != null) {
        throw new IllegalArgumentException(refusal);
      }
    }
    return keySet ? ApprovalKeys.of(List.of(ApprovalSignature.decodeKey(signingKey))) : ApprovalKeys.none();
  }
}

package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import java.util.List;

/**
 * Signed approvals. With a signing key (base64 of at least 32 random bytes, the same {@code
 * FERRY_APPROVAL_KEY} the workers verify with), the API signs every decision it sends, and
 * workers holding the key refuse decisions that are not signed: a signal sent straight to
 * Temporal cannot open a gate. Blank: decisions are not signed.
 */
public class ApprovalSettings {
  /** A secret: take it from the environment, never write it here. */
  @JsonProperty private String signingKey = "";

  /** @throws IllegalArgumentException when the key is not base64 of at least 32 bytes */
  public ApprovalKeys keys() {
    return signingKey == null || signingKey.isBlank()
        ? ApprovalKeys.none()
        : ApprovalKeys.of(List.of(ApprovalSignature.decodeKey(signingKey)));
  }
}

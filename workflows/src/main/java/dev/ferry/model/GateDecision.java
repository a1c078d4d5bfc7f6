package dev.ferry.model;

import java.time.Instant;

/**
 * A decision on a gate, as sent to the {@code decide} update (the API) or the {@code decision}
 * signal (Temporal UI and CLI). For example:
 *
 * <pre>{"gate":"start","verdict":"APPROVE","approver":"arjun","comment":"preflight looks clean"}</pre>
 *
 * @param approver who decides; the API sets it to the authenticated user, never to a field of
 *     the request body
 * @param comment why; required to reject
 * @param evidenceDigest the digest of the evidence the approver saw ({@code
 *     PendingGate.evidenceDigest}), or {@code null}; when given, it must still be current
 * @param signature the API's HMAC over this decision ({@link ApprovalSignature}), or null; when
 *     the workers hold an approval key, a decision without a valid one is refused, so a signal
 *     sent straight to Temporal cannot open a gate
 * @param issuedAt when the API signed it (covered by the signature), or null
 */
public record GateDecision(
    String gate,
    Verdict verdict,
    String approver,
    String comment,
    String evidenceDigest,
    String signature,
    Instant issuedAt) {

  /** An unsigned decision, on whatever evidence the gate shows. */
  public GateDecision(String gate, Verdict verdict, String approver, String comment) {
    this(gate, verdict, approver, comment, null, null, null);
  }

  /** An unsigned decision on the evidence with this digest. */
  public GateDecision(String gate, Verdict verdict, String approver, String comment, String evidenceDigest) {
    this(gate, verdict, approver, comment, evidenceDigest, null, null);
  }
}

package dev.ferry.model;

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
 */
public record GateDecision(String gate, Verdict verdict, String approver, String comment, String evidenceDigest) {
  public GateDecision(String gate, Verdict verdict, String approver, String comment) {
    this(gate, verdict, approver, comment, null);
  }
}

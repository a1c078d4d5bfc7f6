package dev.ferry.model;

import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The keys a worker verifies signed approvals with: the current one first, then older ones kept
 * while runs that began under them may still replay. Empty: approvals are not signed (the
 * embedded dev stack, tests). Handed to the workflow implementation by the worker's factory, so
 * no key is ever written to workflow history.
 */
public final class ApprovalKeys {
  private static final ApprovalKeys NONE = new ApprovalKeys(List.of());
  private final List<byte[]> keys;

  private ApprovalKeys(List<byte[]> keys) {
    this.keys = keys.stream().map(byte[]::clone).toList();
  }

  public static ApprovalKeys none() {
    return NONE;
  }

  /** @param keys the current key first; each at least 32 bytes */
  public static ApprovalKeys of(List<byte[]> keys) {
    keys.forEach(k -> {
      if (k == null || k.length < ApprovalSignature.MIN_KEY_BYTES) {
        throw new IllegalArgumentException("an approval key must be at least " + ApprovalSignature.MIN_KEY_BYTES + " bytes");
      }
    });
    return new ApprovalKeys(keys);
  }

  /** Whether decisions must carry a valid signature. */
  public boolean required() {
    return !keys.isEmpty();
  }

  /** Whether the decision is signed by one of these keys for this run (always true when none are required). */
  public boolean accepts(String runId, GateDecision decision, String evidenceDigest) {
    return !required() || ApprovalSignature.verify(keys, runId, decision, evidenceDigest);
  }

  /** Signs with the current key (the API's side, and tests). */
  public GateDecision sign(String runId, GateDecision decision, String evidenceDigest, Instant issuedAt) {
    if (!required()) {
      return decision;
    }
    return ApprovalSignature.signed(keys.get(0), runId, decision, evidenceDigest, issuedAt);
  }

  /** Key ids only, never keys. */
  @Override
  public String toString() {
    return keys.isEmpty()
        ? "approvals unsigned"
        : "approvals signed, keys " + keys.stream().map(ApprovalSignature::keyId).collect(Collectors.joining(", "));
  }
}

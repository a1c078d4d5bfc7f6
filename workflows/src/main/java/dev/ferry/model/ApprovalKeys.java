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

  /**
   * A deployment (the worker's {@code worker} command, the API with {@code api/config/ferry.yml})
   * refuses to start without an approval key unless this variable holds {@link #UNSIGNED_CONSENT}:
   * the operator's written word that anyone who can reach the Temporal frontend may then decide
   * any gate, naming any approver.
   */
  public static final String UNSIGNED_VARIABLE = "FERRY_APPROVALS_UNSIGNED";

  /** The one value of {@link #UNSIGNED_VARIABLE}: who can approve when decisions are unsigned. */
  public static final String UNSIGNED_CONSENT = "anyone-who-can-reach-temporal";

  /**
   * What a deployment says about its approvals before it starts.
   *
   * @param keySet whether an approval key is configured
   * @param unsigned the value of {@link #UNSIGNED_VARIABLE} (null or blank when unset)
   * @param keySetting how the key is named where this process reads it, for the message
   * @return null when the process may start, else why it must not
   */
  public static String deploymentRefusal(boolean keySet, String unsigned, String keySetting) {
    boolean optedOut = unsigned != null && !unsigned.isBlank();
    if (optedOut && !UNSIGNED_CONSENT.equals(unsigned.trim())) {
      return UNSIGNED_VARIABLE + " must be exactly " + UNSIGNED_CONSENT + " (who can approve a gate without a signature),"
          + " or unset with " + keySetting + " set";
    }
    if (keySet && optedOut) {
      return keySetting + " and " + UNSIGNED_VARIABLE + " are both set: decide whether approvals are signed, and unset the other";
    }
    if (!keySet && !optedOut) {
      return keySetting + " is not set: without it anyone who can reach the Temporal frontend can open any gate with a"
          + " signal naming any approver. Set it to base64 of 32 random bytes (openssl rand -base64 32), the same for the"
          + " API and every worker, or set " + UNSIGNED_VARIABLE + "=" + UNSIGNED_CONSENT + " to run with unsigned approvals";
    }
    return null;
  }

  /** The warning a process logs at start when it runs with unsigned approvals. */
  public static String unsignedWarning(String temporalAddress) {
    return "APPROVALS ARE NOT SIGNED (" + UNSIGNED_VARIABLE + "=" + UNSIGNED_CONSENT + "): anyone who can reach the Temporal"
        + " frontend at " + temporalAddress + " can approve or reject any gate with the decision signal, naming any approver;"
        + " set FERRY_APPROVAL_KEY on the API and every worker to accept only decisions Ferry's API signed";
  }
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

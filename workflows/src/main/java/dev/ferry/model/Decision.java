package dev.ferry.model;

import java.time.Instant;

/**
 * A decision a gate accepted: who, when, why, through which channel, and on what evidence.
 *
 * @param via {@code update} (the API), {@code signal} (Temporal UI or CLI) or {@code deadline}
 *     (nobody decided in time: the gate rejected on its own)
 * @param evidenceDigest the digest of the evidence the gate showed when it was decided
 */
public record Decision(
    String gate,
    Verdict verdict,
    String decidedBy,
    String comment,
    Instant decidedAt,
    String via,
    String evidenceDigest) {

  public static final String VIA_UPDATE = "update";
  public static final String VIA_SIGNAL = "signal";
  public static final String VIA_DEADLINE = "deadline";
}

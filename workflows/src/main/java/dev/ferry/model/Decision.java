package dev.ferry.model;

import java.time.Instant;

/**
 * A decision a gate accepted: who, when, why and through which channel.
 *
 * @param via {@code update} (the API), {@code signal} (Temporal UI or CLI) or {@code deadline}
 *     (nobody decided in time: the gate rejected on its own)
 */
public record Decision(
    String gate, Verdict verdict, String decidedBy, String comment, Instant decidedAt, String via) {

  public static final String VIA_UPDATE = "update";
  public static final String VIA_SIGNAL = "signal";
  public static final String VIA_DEADLINE = "deadline";
}

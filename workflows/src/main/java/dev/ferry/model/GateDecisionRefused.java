package dev.ferry.model;

import io.temporal.failure.ApplicationFailure;
import java.util.Optional;

/**
 * Why a gate refused a decision. Thrown by the update validator, so a bad approval is refused at
 * once and leaves nothing in history.
 *
 * <p>It is a plain exception, not an {@code ApplicationFailure}: the SDK (1.38) replaces the type
 * of an {@code ApplicationFailure} thrown by a validator with an internal one. This exception
 * reaches the caller as an {@code ApplicationFailure} whose type is this class's name and whose
 * message starts with the reason; {@link #from(Throwable)} reads it back.
 */
public class GateDecisionRefused extends RuntimeException {

  public enum Reason {
    /** The decision lacks a gate, a verdict or an approver. */
    INVALID,
    /** The run does not wait at this gate now. */
    NOT_PENDING,
    /** The gate was decided already. */
    ALREADY_DECIDED,
    /** The approver started the run, and the runbook keeps four eyes. */
    SELF_APPROVAL,
    /** The runbook lists the gate's approvers, and this user is not one of them. */
    NOT_AN_APPROVER,
    /** A rejection must say why. */
    COMMENT_REQUIRED,
    /** The approver decided on evidence that has changed since (more lag, a newer verification). */
    STALE_EVIDENCE,
    /** The workers require the API's signature on decisions, and this one has none that verifies. */
    UNSIGNED,
    /**
     * The cutover budget refuses approval (the latest rehearsal failed, is too old or estimated
     * too much downtime) and the comment does not override it ({@code override: <why>}).
     */
    OVER_BUDGET
  }

  private final Reason reason;

  public GateDecisionRefused(Reason reason, String message) {
    super(reason.name() + ": " + message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** The message without the reason prefix. */
  public String explanation() {
    return getMessage().substring(reason.name().length() + 2);
  }

  /** Finds a refusal in a failure chain, as it arrives at a client. */
  public static Optional<GateDecisionRefused> from(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof GateDecisionRefused refused) {
        return Optional.of(refused);
      }
      if (t instanceof ApplicationFailure af
          && GateDecisionRefused.class.getName().equals(af.getType())) {
        String message = af.getOriginalMessage();
        for (Reason reason : Reason.values()) {
          if (message.startsWith(reason.name() + ": ")) {
            return Optional.of(
                new GateDecisionRefused(reason, message.substring(reason.name().length() + 2)));
          }
        }
      }
    }
    return Optional.empty();
  }
}

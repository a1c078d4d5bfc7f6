package dev.ferry.model.runbook;

import java.time.Duration;
import java.util.List;

/**
 * Who may open a gate and how long it waits.
 *
 * @param approvers the users allowed to decide; empty means any user with the approver role
 * @param timeout how long the gate waits for a decision before it rejects (it never approves on
 *     its own)
 * @param allowSelfApproval whether the user who started the run may decide its gates (four eyes
 *     by default: no)
 * @param remindAfter when, after the gate opened, a reminder goes out if nobody decided yet;
 *     {@code null} means half the timeout
 */
public record GateSpec(List<String> approvers, Duration timeout, boolean allowSelfApproval, Duration remindAfter) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(24);
  public static final GateSpec DEFAULT = new GateSpec(List.of(), DEFAULT_TIMEOUT, false, null);

  /** When the reminder goes out, counted from the gate's opening. */
  public Duration reminder() {
    return remindAfter != null ? remindAfter : timeout.dividedBy(2);
  }
}

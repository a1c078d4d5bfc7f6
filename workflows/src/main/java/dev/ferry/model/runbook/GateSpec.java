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
 */
public record GateSpec(List<String> approvers, Duration timeout, boolean allowSelfApproval) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(24);
  public static final GateSpec DEFAULT = new GateSpec(List.of(), DEFAULT_TIMEOUT, false);
}

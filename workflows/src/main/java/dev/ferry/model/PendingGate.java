package dev.ferry.model;

import java.time.Instant;
import java.util.List;

/**
 * The gate a run waits at.
 *
 * @param approvers who may decide; empty means any user with the approver role
 * @param deadline when the gate rejects on its own if nobody decided
 */
public record PendingGate(
    String gate,
    Instant openedAt,
    Instant deadline,
    List<String> approvers,
    boolean allowSelfApproval) {}

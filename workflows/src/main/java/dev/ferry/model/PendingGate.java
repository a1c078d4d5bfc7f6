package dev.ferry.model;

import java.time.Instant;
import java.util.List;

/**
 * The gate a run waits at.
 *
 * @param approvers who may decide; empty means any user with the approver role
 * @param remindAt when a reminder goes out if nobody decided
 * @param deadline when the gate rejects on its own if nobody decided
 * @param evidence what the approver should look at before deciding
 * @param evidenceDigest its digest; a decision that names another digest was made on evidence
 *     that has changed since, and is refused
 */
public record PendingGate(
    String gate,
    Instant openedAt,
    Instant remindAt,
    Instant deadline,
    List<String> approvers,
    boolean allowSelfApproval,
    List<String> evidence,
    String evidenceDigest) {}

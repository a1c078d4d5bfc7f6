package dev.ferry.model;

import java.time.Instant;

/**
 * One entry of a run's audit trail in the ledger, as the workflow records it through {@code
 * LedgerActivities.recordRunEvent}.
 *
 * <p>{@code (runId, seq)} identifies the event: the workflow numbers its events 1, 2, 3… in the
 * order it records them (a counter in workflow state, so replay derives the same numbers), and
 * the ledger stores each number once, so a retried activity never writes an event twice.
 *
 * @param runId the workflow id
 * @param seq the event's number within the run, from 1
 * @param at when it happened, by workflow time ({@code Workflow.currentTimeMillis()})
 * @param kind what the run is for; with {@code app} it lets the ledger list a run started from
 *     the Temporal UI or CLI, which the API never saw
 * @param app the runbook's app
 * @param state the run's state once this event happened (the ledger's run list shows the latest)
 * @param step the step or gate it concerns ({@code snapshot}, {@code gate:start}), or null
 * @param actor who: the starter for STARTED, the approver for DECISION, or null
 * @param detail what happened, in a sentence; never a secret
 * @param evidenceDigest for DECISION: the digest of the evidence the approver saw, or null
 */
public record RunEvent(
    String runId,
    long seq,
    Instant at,
    RunEventType type,
    RunKind kind,
    String app,
    RunState state,
    String step,
    String actor,
    String detail,
    String evidenceDigest) {

  /** The event's identity: the run and its number. */
  public String eventId() {
    return runId + "#" + seq;
  }
}

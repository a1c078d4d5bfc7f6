package dev.ferry.api.representations;

import dev.ferry.api.db.RunLedger;
import java.time.Instant;
import java.util.List;

/**
 * One audit event of a run, from the ledger.
 *
 * @param seq the workflow's number for it; null for events the API recorded
 * @param source workflow or api
 */
public record RunEventView(
    Long seq, Instant at, String type, String step, String actor, String detail, String evidenceDigest, String source) {

  public static RunEventView from(RunLedger.Event e) {
    return new RunEventView(e.seq(), e.at(), e.type(), e.step(), e.actor(), e.detail(), e.evidenceDigest(), e.source());
  }

  /** {@code GET /api/runs/{id}/events}. */
  public record Page(String runId, List<RunEventView> events) {}
}

package dev.ferry.api.representations;

import dev.ferry.api.db.RunLedger;
import java.time.Instant;

/**
 * A run as {@code GET /api/runs} lists it, from the ledger.
 *
 * @param kind migration or rehearsal
 * @param startedVia api, or temporal (started from the Temporal UI or CLI)
 */
public record RunSummary(
    String runId,
    String kind,
    String app,
    String strategy,
    String state,
    String phase,
    String startedBy,
    String startedVia,
    Instant createdAt,
    Instant updatedAt,
    Instant endedAt,
    String statusUrl) {

  public static RunSummary from(RunLedger.Run r) {
    return new RunSummary(
        r.runId(), r.kind(), r.app(), r.strategy(), r.state(), r.phase(), r.startedBy(), r.startedVia(),
        r.createdAt(), r.updatedAt(), r.endedAt(), "/api/runs/" + r.runId());
  }
}

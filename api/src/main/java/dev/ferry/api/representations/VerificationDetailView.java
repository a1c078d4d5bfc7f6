package dev.ferry.api.representations;

import dev.ferry.api.db.RunLedger;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /api/runs/{id}/verification}: a page of the comparison of every table, sequence or
 * schema difference the run's latest verification made, from the ledger (the run's status names
 * at most 50 of each).
 *
 * @param verification the verify activity that made it (the same across its retries)
 * @param finishedAt {@code null} while it runs: the objects recorded so far
 * @param mismatches in all (every kind), once finished
 * @param kind {@code table}, {@code sequence} or {@code schema}
 * @param total objects of this kind recorded; {@code differing} those that differ
 * @param objects this page, in name order
 * @param next the next page, or {@code null} on the last one
 */
public record VerificationDetailView(
    String runId,
    String verification,
    Instant startedAt,
    Instant finishedAt,
    Integer mismatches,
    String kind,
    long total,
    long differing,
    List<RunLedger.VerificationObject> objects,
    String next) {}

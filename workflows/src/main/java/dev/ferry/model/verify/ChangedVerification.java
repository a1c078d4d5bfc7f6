package dev.ferry.model.verify;

import dev.ferry.model.database.VerificationReport;

/**
 * The final verify of a pre-verified run: what it re-checked with the source frozen, and the
 * verdict over the whole database.
 *
 * @param report every table (from its proofs and re-checks), sequences, schema, large objects;
 *     a row or chunk that differs is named by table and key
 * @param chunks chunks in all
 * @param chunksRechecked chunks compared again in full (no standing proof: never matched, or a
 *     truncate since)
 * @param rowsRechecked rows those chunks hold
 * @param changedRowsRechecked rows compared one by one because they changed since their proof
 */
public record ChangedVerification(
    VerificationReport report, long chunks, long chunksRechecked, long rowsRechecked, long changedRowsRechecked) {

  /** How much was re-checked, for people. */
  public String recheck() {
    return "re-checked " + changedRowsRechecked + " changed row(s) and " + chunksRechecked + " of " + chunks
        + " chunks (" + rowsRechecked + " rows); the rest stood proven from before the freeze";
  }
}

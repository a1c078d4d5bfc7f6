package dev.ferry.activities.postgres;

import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a verification keeps the comparison of every table, sequence and schema difference: its
 * result names at most {@link dev.ferry.model.database.VerificationReport#MAX_LISTED} of each
 * (it travels through Temporal), so the rest is kept here. A worker with a run ledger keeps it
 * there ({@code dev.ferry.activities.ledger.LedgerVerificationDetails}, served by {@code GET
 * /api/runs/{id}/verification}); without one, the worker's log names what differs.
 *
 * <p>Every call is idempotent (a retried verification records the same objects again); a call
 * that fails is logged by the verification, which goes on without it and says so.
 */
public interface VerificationDetails {
  /**
   * One verification: an activity of a run.
   *
   * @param activityId the same for every attempt of that activity
   */
  record Verification(String runId, String activityId) {}

  /** Where to find every object's comparison, for people: ends a report's bounded lists. */
  String where(Verification v);

  void begin(Verification v);

  void tables(Verification v, List<TableComparison> tables);

  void sequences(Verification v, List<SequenceComparison> sequences);

  void schema(Verification v, List<SchemaDifference> differences);

  /** The verification is complete, with this many mismatches. */
  void finish(Verification v, int mismatches);

  /** Nowhere but the worker's log, which names every table and sequence that differs. */
  static VerificationDetails log() {
    Logger log = LoggerFactory.getLogger(VerificationDetails.class);
    return new VerificationDetails() {
      @Override
      public String where(Verification v) {
        return "the worker's log names every table and sequence that differs (no run ledger)";
      }

      @Override
      public void begin(Verification v) {}

      @Override
      public void tables(Verification v, List<TableComparison> tables) {
        tables.stream().filter(t -> !t.matches()).forEach(t -> log.warn("verification of {}: {} differs: {}", v.runId(), t.table(), t));
      }

      @Override
      public void sequences(Verification v, List<SequenceComparison> sequences) {
        sequences.stream().filter(s -> !s.matches()).forEach(s -> log.warn("verification of {}: sequence differs: {}", v.runId(), s));
      }

      @Override
      public void schema(Verification v, List<SchemaDifference> differences) {
        differences.forEach(d -> log.warn("verification of {}: {}", v.runId(), d.describe()));
      }

      @Override
      public void finish(Verification v, int mismatches) {
        log.info("verification of {} ({}): {} mismatch(es)", v.runId(), v.activityId(), mismatches);
      }
    };
  }
}

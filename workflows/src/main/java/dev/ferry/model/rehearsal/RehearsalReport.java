package dev.ferry.model.rehearsal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one rehearsal measured. Stored in the ledger, served by the API, read by the cutover
 * budget.
 *
 * @param phases every phase in order, with its duration (failed and skipped ones too)
 * @param succeeded {@code true} when every phase succeeded and verification found no difference
 * @param estimatedDowntime the cutover's estimated write-downtime for the runbook's strategy
 *     (freeze + drain + sequence sync + final verify + DNS change), from measured rates; {@code
 *     null} when the rehearsal failed before it could be estimated
 * @param errors what went wrong, for people; empty when it succeeded
 * @param estimateBasis how {@code estimatedDowntime} was put together, term by term, and which
 *     terms were measured and which assumed; {@code null} without an estimate
 * @param skipped why the rehearsal did nothing (another rehearsal or a migration of the app was
 *     running), or {@code null} when it ran
 */
public record RehearsalReport(
    String rehearsalId,
    String app,
    String strategy,
    Instant startedAt,
    Instant finishedAt,
    boolean succeeded,
    List<PhaseTiming> phases,
    long bytes,
    long rows,
    String verification,
    Duration estimatedDowntime,
    List<String> errors,
    String estimateBasis,
    String skipped) {

  /** How the report reads in one word: {@code succeeded}, {@code failed} or {@code skipped}. */
  public String outcome() {
    return skipped != null ? "skipped" : succeeded ? "succeeded" : "failed";
  }

  /**
   * @param state SUCCEEDED, FAILED or SKIPPED
   */
  public record PhaseTiming(String phase, String state, Duration duration, String detail) {
    public static final String SUCCEEDED = "SUCCEEDED";
    public static final String FAILED = "FAILED";
    public static final String SKIPPED = "SKIPPED";
  }
}

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
    List<String> errors) {

  /**
   * @param state SUCCEEDED, FAILED or SKIPPED
   */
  public record PhaseTiming(String phase, String state, Duration duration, String detail) {}
}

package dev.ferry.model.rehearsal;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * The trend across recent rehearsals: median and worst estimated downtime, and how many
 * succeeded. Skipped rehearsals count for nothing; failed ones count against the success rate
 * but not in the downtime figures (a rehearsal that failed midway measured too little).
 *
 * @param considered rehearsals that ran (not skipped)
 * @param succeeded of those, the ones that succeeded
 * @param successRate {@code succeeded / considered}, or {@code null} when none ran
 * @param medianDowntime of the estimates, or {@code null} when there is none
 * @param worstDowntime the longest estimate, or {@code null}
 */
public record RehearsalTrend(
    int considered, int succeeded, Double successRate, Duration medianDowntime, Duration worstDowntime) {

  /** The trend of these reports (newest first or in any order). */
  public static RehearsalTrend of(List<RehearsalReport> reports) {
    List<RehearsalReport> ran = reports.stream().filter(r -> r.skipped() == null).toList();
    int succeeded = (int) ran.stream().filter(RehearsalReport::succeeded).count();
    List<Duration> estimates =
        ran.stream()
            .filter(RehearsalReport::succeeded)
            .map(RehearsalReport::estimatedDowntime)
            .filter(d -> d != null)
            .sorted(Comparator.naturalOrder())
            .toList();
    Duration median = null;
    if (!estimates.isEmpty()) {
      int n = estimates.size();
      median = n % 2 == 1 ? estimates.get(n / 2) : estimates.get(n / 2 - 1).plus(estimates.get(n / 2)).dividedBy(2);
    }
    return new RehearsalTrend(
        ran.size(),
        succeeded,
        ran.isEmpty() ? null : (double) succeeded / ran.size(),
        median,
        estimates.isEmpty() ? null : estimates.get(estimates.size() - 1));
  }
}

package dev.ferry.api.representations;

import dev.ferry.model.rehearsal.RehearsalTrend;
import java.util.List;

/**
 * {@code GET /api/rehearsals}: the latest reports, newest first, and their trend.
 *
 * @param app the app asked for, or null for every app (the trend then mixes apps)
 */
public record RehearsalList(String app, int limit, Trend trend, List<RehearsalView> rehearsals) {

  /**
   * Over the listed rehearsals: skipped ones count for nothing, failed ones against the success
   * rate, and only succeeded ones in the downtime figures.
   *
   * @param successRate from 0 to 1, or null when none ran
   */
  public record Trend(
      int considered,
      int succeeded,
      Double successRate,
      Long medianDowntimeMillis,
      String medianDowntime,
      Long worstDowntimeMillis,
      String worstDowntime) {

    public static Trend from(RehearsalTrend t) {
      return new Trend(
          t.considered(),
          t.succeeded(),
          t.successRate(),
          RehearsalView.millis(t.medianDowntime()),
          RehearsalView.words(t.medianDowntime()),
          RehearsalView.millis(t.worstDowntime()),
          RehearsalView.words(t.worstDowntime()));
    }
  }
}

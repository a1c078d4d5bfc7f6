package dev.ferry.api.representations;

import dev.ferry.model.rehearsal.RehearsalReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /api/rehearsals/{id}}: one rehearsal's report. Durations in milliseconds, plus the
 * estimated downtime in words.
 *
 * @param outcome {@code succeeded}, {@code failed} or {@code skipped}
 * @param skipped why it did nothing, or null
 * @param estimatedDowntimeMillis null when the rehearsal could not estimate it
 * @param estimateBasis how the estimate was made, term by term (measured or assumed)
 */
public record RehearsalView(
    String rehearsalId,
    String app,
    String strategy,
    String outcome,
    boolean succeeded,
    String skipped,
    Instant startedAt,
    Instant finishedAt,
    Long durationMillis,
    List<Phase> phases,
    long bytes,
    long rows,
    String verification,
    Long estimatedDowntimeMillis,
    String estimatedDowntime,
    String estimateBasis,
    List<String> errors,
    String statusUrl) {

  /** @param state SUCCEEDED, FAILED or SKIPPED */
  public record Phase(String phase, String state, Long durationMillis, String detail) {}

  public static RehearsalView from(RehearsalReport r) {
    return new RehearsalView(
        r.rehearsalId(),
        r.app(),
        r.strategy(),
        r.outcome(),
        r.succeeded(),
        r.skipped(),
        r.startedAt(),
        r.finishedAt(),
        r.startedAt() == null || r.finishedAt() == null ? null : Duration.between(r.startedAt(), r.finishedAt()).toMillis(),
        r.phases() == null ? List.of()
            : r.phases().stream().map(p -> new Phase(p.phase(), p.state(), millis(p.duration()), p.detail())).toList(),
        r.bytes(),
        r.rows(),
        r.verification(),
        millis(r.estimatedDowntime()),
        words(r.estimatedDowntime()),
        r.estimateBasis(),
        r.errors() == null ? List.of() : r.errors(),
        "/api/runs/" + r.rehearsalId());
  }

  static Long millis(Duration d) {
    return d == null ? null : d.toMillis();
  }

  /** {@code 4.2 s}, {@code 12 min 5 s}: for people. */
  static String words(Duration d) {
    if (d == null) {
      return null;
    }
    if (d.compareTo(Duration.ofMinutes(1)) < 0) {
      return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
    long s = d.toSeconds();
    return s / 3600 > 0 ? (s / 3600) + " h " + (s % 3600) / 60 + " min" : (s / 60) + " min " + (s % 60) + " s";
  }
}

package dev.ferry.model.smoke;

import java.time.Duration;
import java.util.Map;

/**
 * What one URL answered over a dwell.
 *
 * @param failures why requests failed, with counts: {@code status 503}, {@code slower than 2s},
 *     {@code connection refused}
 */
public record UrlEvidence(
    String url,
    long requests,
    long errors,
    Duration p95Latency,
    Duration maxLatency,
    Map<String, Long> failures) {}

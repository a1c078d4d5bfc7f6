package dev.ferry.model.smoke;

import java.time.Duration;
import java.util.List;

/**
 * The smoke checks' verdict over one dwell, with its evidence. A failed check is a verdict with
 * {@code passed = false}, not an exception: the workflow decides to roll back.
 *
 * @param passed whether the error rate stayed at or under the threshold
 * @param summary one line for the run's step detail
 * @param rounds rounds run (every URL once per round)
 * @param stoppedEarly true when the errors already exceeded what the whole dwell may have, so
 *     the remaining rounds were not run
 * @param p95Latency over every request, failed ones included
 */
public record SmokeVerdict(
    boolean passed,
    String summary,
    int rounds,
    boolean stoppedEarly,
    long requests,
    long errors,
    double errorRate,
    Duration p95Latency,
    Duration maxLatency,
    List<UrlEvidence> urls) {}

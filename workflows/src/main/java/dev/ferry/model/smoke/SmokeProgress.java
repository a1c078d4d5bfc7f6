package dev.ferry.model.smoke;

import java.util.List;
import java.util.Map;

/**
 * What the smoke checks heartbeat after every round; a retry resumes the dwell from it.
 *
 * @param roundsDone rounds finished
 * @param roundsPlanned rounds the dwell holds
 * @param urls per URL, in the request's order
 */
public record SmokeProgress(int roundsDone, int roundsPlanned, List<UrlTally> urls) {

  /**
   * @param latencyMillis every request's latency, in milliseconds
   * @param failures reason → count
   */
  public record UrlTally(String url, long requests, long errors, List<Long> latencyMillis, Map<String, Long> failures) {}
}

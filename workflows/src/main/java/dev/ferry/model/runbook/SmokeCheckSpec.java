package dev.ferry.model.runbook;

import java.time.Duration;

/**
 * An HTTP GET on the AWS side of the shift (address the AWS target directly: the public name is
 * split between both sides while weights shift).
 *
 * @param url an {@code http} or {@code https} URL, without user or password
 * @param expectStatus the status a healthy answer has (200)
 * @param maxLatency a slower answer counts as an error (2 s)
 */
public record SmokeCheckSpec(String url, int expectStatus, Duration maxLatency) {
  public static final int DEFAULT_STATUS = 200;
  public static final Duration DEFAULT_MAX_LATENCY = Duration.ofSeconds(2);
}

package dev.ferry.model.runbook;

import dev.ferry.model.dns.TrafficRecords;
import java.time.Duration;
import java.util.List;

/**
 * The Route 53 weighted records that move traffic from Heroku to AWS, and how: lower the TTL,
 * wait out the old one, then shift in steps with smoke checks between them.
 *
 * @param hostedZoneId the Route 53 hosted zone ({@code Z0123456789ABC})
 * @param recordName the name users resolve ({@code www.shop.example.com}), lower case
 * @param recordType {@code CNAME} (default), {@code A} or {@code AAAA}
 * @param herokuTarget what the Heroku record answers ({@code shop-production.herokudns.com})
 * @param awsTarget what the AWS record answers ({@code shop-alb-123.eu-west-1.elb.amazonaws.com})
 * @param setIdentifiers the weighted records' set identifiers
 * @param lowerTtlTo the TTL set before the shift (default 60 s)
 * @param steps the AWS weights in order, ending at 100 (default 10 → 50 → 100, 5 min each)
 * @param smokeChecks what is checked on the AWS side during each step's dwell (at least one)
 * @param maxErrorRate the share of failed checks over a dwell that aborts the shift (0.01)
 */
public record DnsSpec(
    String hostedZoneId,
    String recordName,
    String recordType,
    String herokuTarget,
    String awsTarget,
    SetIdentifiers setIdentifiers,
    Duration lowerTtlTo,
    List<TrafficStep> steps,
    List<SmokeCheckSpec> smokeChecks,
    double maxErrorRate) {

  public static final String DEFAULT_RECORD_TYPE = "CNAME";
  public static final Duration DEFAULT_LOWER_TTL_TO = Duration.ofSeconds(60);
  public static final Duration DEFAULT_DWELL = Duration.ofMinutes(5);
  public static final List<TrafficStep> DEFAULT_STEPS =
      List.of(
          new TrafficStep(10, DEFAULT_DWELL),
          new TrafficStep(50, DEFAULT_DWELL),
          new TrafficStep(100, DEFAULT_DWELL));
  public static final double DEFAULT_MAX_ERROR_RATE = 0.01;

  /** The set identifiers of the two weighted records. */
  public record SetIdentifiers(String heroku, String aws) {
    public static final SetIdentifiers DEFAULT = new SetIdentifiers("heroku", "aws");
  }

  /** What the DNS activities need to find and change the two records. */
  public TrafficRecords records() {
    return new TrafficRecords(
        hostedZoneId,
        recordName,
        recordType,
        setIdentifiers.heroku(),
        herokuTarget,
        setIdentifiers.aws(),
        awsTarget);
  }
}

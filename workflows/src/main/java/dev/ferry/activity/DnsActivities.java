package dev.ferry.activity;

import dev.ferry.model.dns.DnsChange;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import io.temporal.activity.ActivityInterface;
import java.time.Duration;

/**
 * Route 53 weighted records for the cutover: read them, lower their TTL, shift weights between
 * the Heroku and the AWS record, and put back what was found.
 *
 * <h2>What the workflow does with them (options: {@code ActivityCatalog.dnsRead()} for {@link
 * #readRecords}, {@code ActivityCatalog.dnsChange()} for the others)</h2>
 *
 * <ol>
 *   <li>{@code found = readRecords(records)} early (preflight), and keep {@code found}: it is in
 *       history, so it survives restarts, and it is what the compensation restores.
 *   <li>Register the compensation {@code restoreRecords(records, found)}, then {@code
 *       lowerTtl(records, dns.lowerTtlTo())}.
 *   <li>{@code Workflow.sleep(found.longestTtl())}: wait out the <em>old</em> TTL on a durable
 *       timer, measured from when the lowered TTL is INSYNC (lowerTtl returns only then), so no
 *       resolver still caches the long TTL when weights move. Skip nothing on a restart: the
 *       timer is durable.
 *   <li>For each {@code step} of {@code dns.steps()}: {@code setWeights(records,
 *       step.awsWeight(), dns.lowerTtlTo())}, then {@code SmokeCheckActivities.runSmokeChecks(new
 *       SmokeCheckRequest(dns.smokeChecks(), step.dwell(), dns.maxErrorRate()))}. When the
 *       verdict has {@code passed == false}: {@code restoreRecords(records, found)} at once (all
 *       traffic back to Heroku), then fail with {@code Errors.SMOKE_CHECKS_FAILED} and the
 *       verdict's summary.
 *   <li>On any later failure or cancellation the registered compensation runs {@code
 *       restoreRecords(records, found)} (idempotent: running it twice is harmless).
 *   <li>Once the fallback window is over (decommission), {@code setWeights(records, 100,
 *       max(found.longestTtl(), dns.lowerTtlTo()))} gives the AWS record its long TTL back.
 * </ol>
 *
 * <p>Every change is one atomic ChangeResourceRecordSets batch, and each changing activity
 * returns only once Route 53 reports the change INSYNC, heartbeating while it polls; a retry
 * after a crash re-reads the records and finishes the job (the batch is computed from what is
 * there, so it is idempotent). Final failures: {@code DnsZoneNotFound}, {@code
 * DnsRecordsUnsupported} (alias records, or weighted records of other set identifiers on the
 * name), {@code DnsChangeRefused} (Route 53 refused the batch), {@code AwsAccessDenied}; throttling
 * and outages ({@code AwsUnavailable}) are retried.
 */
@ActivityInterface
public interface DnsActivities {
  /**
   * Every record set of the name and type: a simple record (the usual Heroku CNAME), or weighted
   * records from an earlier run. Reads only. Refuses alias records and weighted records with
   * set identifiers other than the two of the runbook ({@code DnsRecordsUnsupported}): Ferry
   * could not reach 100 % AWS with them.
   */
  DnsRecords readRecords(TrafficRecords records);

  /**
   * Sets the TTL of every record set of the name and type to {@code ttl} (those already at or
   * under it are left), and waits until INSYNC. Changes nothing else. Returns the records after.
   */
  DnsChange lowerTtl(TrafficRecords records, Duration ttl);

  /**
   * Makes the name weighted: the AWS record gets {@code awsWeight} (0–100), the Heroku record
   * {@code 100 - awsWeight}, both with {@code ttl}; a simple record of the name is replaced in
   * the same atomic batch. Waits until INSYNC, heartbeating the change id. Idempotent.
   */
  DnsChange setWeights(TrafficRecords records, int awsWeight, Duration ttl);

  /**
   * Puts back exactly {@code found} (from {@link #readRecords}): its records with their TTLs
   * and weights, and deletes the weighted records Ferry added. Waits until INSYNC. Idempotent;
   * nothing is submitted when the records already are as found.
   */
  DnsChange restoreRecords(TrafficRecords records, DnsRecords found);
}

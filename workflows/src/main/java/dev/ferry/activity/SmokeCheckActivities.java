package dev.ferry.activity;

import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeVerdict;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface SmokeCheckActivities {
  /**
   * GETs every URL once per round, in rounds spread over the dwell, and judges the error rate:
   * a request fails when its status is not the expected one, it is slower than the URL's
   * ceiling, or the connection fails. Redirects are not followed (a redirect to a login page is
   * not health).
   *
   * <p>Returns a verdict with its evidence (requests, errors, p95 and max latency, failures by
   * reason and URL); a failed check is a verdict with {@code passed = false}, never an
   * exception, so the workflow decides to roll back (see {@link DnsActivities}). It stops early
   * once the errors exceed what the whole dwell allows. Heartbeats a {@code SmokeProgress} after
   * every round and resumes the dwell from it on retry. Options: {@code
   * ActivityCatalog.smokeChecks(dwell)}.
   */
  SmokeVerdict runSmokeChecks(SmokeCheckRequest request);
}

package dev.ferry.workflow;

import dev.ferry.options.ActivityCatalog;
import java.time.Duration;

/**
 * Settings of the workflow that a deployment (or a test) may change without changing what the
 * workflow does. They shape activity options and timers' lengths only, never the order of
 * commands, so workers with different settings replay each other's histories.
 *
 * @param hostWait how long a host-bound task may wait for the worker of the host holding the
 *     snapshot (the test server cannot skip time over an activity nobody picks up, so tests
 *     shorten it)
 * @param heartbeatTimeout how soon an activity whose worker died is retried elsewhere
 * @param lagPoll how often the lag is measured while waiting for the sync to catch up
 */
public record Tuning(Duration hostWait, Duration heartbeatTimeout, Duration lagPoll) {
  public static final Tuning DEFAULT =
      new Tuning(ActivityCatalog.HOST_WAIT, ActivityCatalog.HEARTBEAT_TIMEOUT, Duration.ofSeconds(30));
}

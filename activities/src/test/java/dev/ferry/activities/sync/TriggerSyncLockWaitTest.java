package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * How long the capture's DDL waits for one table lock: short enough that a statement waiting for
 * an app's lock, and the pause after it, end before the activity's heartbeat is due (a waiting
 * statement cannot heartbeat). The kill test of the sync's teardown shows the whole of it.
 */
class TriggerSyncLockWaitTest {
  @Test
  void aShortHeartbeatTimeout_waitsAThirdOfIt() {
    assertThat(TriggerSync.lockWait(Duration.ofSeconds(5))).isEqualTo(Duration.ofNanos(1_666_666_666));
    assertThat(TriggerSync.lockWait(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void theDefaultHeartbeatTimeout_orNone_waitsTenSecondsAtMost() {
    assertThat(TriggerSync.lockWait(Duration.ofMinutes(1))).isEqualTo(TriggerSync.MAX_LOCK_WAIT).isEqualTo(Duration.ofSeconds(10));
    assertThat(TriggerSync.lockWait(Duration.ZERO)).isEqualTo(TriggerSync.MAX_LOCK_WAIT);
    assertThat(TriggerSync.lockWait(null)).isEqualTo(TriggerSync.MAX_LOCK_WAIT);
  }
}

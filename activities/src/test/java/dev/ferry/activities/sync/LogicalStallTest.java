package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Stuck is failing again and again with nothing moving; slow or once-failed is not. */
class LogicalStallTest {
  @Test
  void errorsWithoutProgress_reachTheLimit_andAreCounted() {
    LogicalStall stall = new LogicalStall(3);

    assertThat(stall.stuck(10, "0/1")).isFalse(); // the first look is the baseline
    assertThat(stall.stuck(11, "0/1")).isFalse();
    assertThat(stall.stuck(12, "0/1")).isFalse();
    assertThat(stall.stuck(13, "0/1")).isTrue();
    assertThat(stall.failures(13)).isEqualTo(3);
  }

  @Test
  void progressBetweenErrors_startsTheCountAgain() {
    LogicalStall stall = new LogicalStall(2);

    stall.stuck(0, "0/1");
    assertThat(stall.stuck(1, "0/1")).isFalse();
    assertThat(stall.stuck(2, "0/2")).as("moved on after a transient failure").isFalse();
    assertThat(stall.stuck(3, "0/2")).isFalse();
    assertThat(stall.stuck(4, "0/2")).isTrue();
  }

  @Test
  void countersReset_areABaselineNotAFailure() {
    LogicalStall stall = new LogicalStall(1);

    stall.stuck(5, "0/1");
    assertThat(stall.stuck(0, "0/1")).isFalse();
    assertThat(stall.stuck(1, "0/1")).isTrue();
  }
}

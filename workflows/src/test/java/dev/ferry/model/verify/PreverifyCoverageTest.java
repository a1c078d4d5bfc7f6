package dev.ferry.model.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When the pre-verification has done enough for the cutover gate to open. */
class PreverifyCoverageTest {
  private static final Duration MAX_LAG = Duration.ofSeconds(30);

  private static PreverifyCoverage coverage(long checked, long changedRows, long oldestMillis) {
    return new PreverifyCoverage(true, 5, 10, checked, checked, 1_000, 1_000, Instant.EPOCH, changedRows, oldestMillis, Instant.EPOCH);
  }

  @Test
  void beforeTheFirstPassEnds_neitherHolds() {
    assertThat(coverage(9, 0, 0).caughtUp(MAX_LAG)).isFalse();
    assertThat(coverage(9, 0, 0).fewLeftForTheFreeze()).isFalse();
  }

  @Test
  void caughtUp_isAboutTheOldestChangedRowsAge() {
    assertThat(coverage(10, 100_000, 29_000).caughtUp(MAX_LAG)).isTrue();
    assertThat(coverage(10, 12, 31_000).caughtUp(MAX_LAG)).isFalse();
  }

  @Test
  void fewLeftForTheFreeze_isAboutTheirNumber_uptoFiveThousand() {
    assertThat(coverage(10, 5_000, 600_000).fewLeftForTheFreeze()).isTrue();
    assertThat(coverage(10, 5_001, 1_000).fewLeftForTheFreeze()).isFalse();
  }
}

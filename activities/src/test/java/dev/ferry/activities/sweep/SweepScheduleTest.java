package dev.ferry.activities.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SweepScheduleTest {

  @Test
  void sweepsAtStart_thenOnItsTimer_andASweepThatThrowsDoesNotStopTheNext() throws Exception {
    AtomicInteger sweeps = new AtomicInteger();
    CountDownLatch three = new CountDownLatch(3);
    try (SweepSchedule schedule =
        SweepSchedule.start(
            () -> {
              int n = sweeps.incrementAndGet();
              three.countDown();
              if (n == 2) {
                throw new IllegalStateException("a database went away mid-sweep");
              }
              return new SweepReport();
            },
            Duration.ofMillis(20))) {
      assertThat(three.await(30, TimeUnit.SECONDS)).as("three sweeps, the second of which threw").isTrue();
    }
    assertThat(sweeps.get()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void theFirstSweepRunsAtStart_notAfterADay() throws Exception {
    CountDownLatch first = new CountDownLatch(1);
    try (SweepSchedule schedule = SweepSchedule.start(() -> {
      first.countDown();
      return new SweepReport();
    }, SweepSchedule.DAILY)) {
      assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
    }
  }
}

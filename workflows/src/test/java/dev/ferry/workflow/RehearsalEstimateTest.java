package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.Runbooks;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RehearsalEstimateTest {
  static final RehearsalEstimate.Measured MEASURED =
      new RehearsalEstimate.Measured(
          Duration.ofMillis(400), Duration.ofSeconds(12), Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofMillis(200));

  @Test
  void singlePhase_withoutDns_isFreezePlusTheWholeCopy() {
    RehearsalEstimate.Estimate e = RehearsalEstimate.of(Runbooks.shop(), MEASURED);

    assertThat(e.total()).isEqualTo(Duration.ofMillis(400 + 12_000 + 30_000 + 5_000 + 200));
    assertThat(e.basis())
        .isEqualTo(
            "single-phase: freeze 0.4 s (measured: the freeze probe's round trips to the source) + snapshot 12.0 s (measured)"
                + " + restore 30.0 s (measured) + verify 5.0 s (measured on the whole database) + sequence sync 0.2 s (measured)"
                + " + traffic: not counted (no dns section: people point the app at the target)");
  }

  @Test
  void singlePhase_withDns_addsTheRoute53Changes_theDwellsBeforeTheLastStep_andTheLoweredTtl() {
    RehearsalEstimate.Estimate e = RehearsalEstimate.of(Runbooks.shopWithEdge(), MEASURED);

    // 3 changes of 60 s, dwells 5m + 5m before the last step, TTL 60 s.
    Duration traffic = Duration.ofSeconds(180 + 600 + 60);
    assertThat(e.total()).isEqualTo(Duration.ofMillis(47_600).plus(traffic));
    assertThat(e.basis()).contains("traffic 840.0 s (assumed: 3 Route 53 change(s)");
  }

  @Test
  void multiPhase_isFreezeDrainSequencesAndFinalVerify_notTheCopy() {
    RehearsalEstimate.Estimate e = RehearsalEstimate.of(Runbooks.shopMultiPhase(), MEASURED);

    assertThat(e.total()).isEqualTo(Duration.ofMillis(400 + 30_000 + 200 + 5_000));
    assertThat(e.basis()).startsWith("multi-phase: freeze 0.4 s").contains("drain 30.0 s (model: at most sync.maxLag");
  }

  @Test
  void withoutAMeasuredVerify_thereIsNoEstimate() {
    assertThat(
            RehearsalEstimate.of(
                Runbooks.shop(),
                new RehearsalEstimate.Measured(Duration.ZERO, Duration.ZERO, Duration.ZERO, null, Duration.ZERO)))
        .isNull();
  }
}

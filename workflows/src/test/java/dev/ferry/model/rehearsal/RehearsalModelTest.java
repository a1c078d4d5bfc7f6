package dev.ferry.model.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RehearsalModelTest {
  @Test
  void theScratchDatabase_isNamedAfterTheRehearsal_andItsReferenceRoundTrips() {
    ScratchDatabase s = ScratchDatabase.forRehearsal("rehearsal-shop-1a2b3c4d", "ffffffff-0000", "ssm:/shop/DATABASE_URL");

    assertThat(s.name()).isEqualTo("ferry_rehearsal_1a2b3c4d");
    assertThat(s.reference()).isEqualTo("scratch:ferry_rehearsal_1a2b3c4d@ssm:/shop/DATABASE_URL");
    assertThat(ScratchDatabase.parse(s.reference())).contains(s);
  }

  @Test
  void aRehearsalIdOfAnotherShape_takesTheFallbackHex() {
    assertThat(ScratchDatabase.forRehearsal("my-test-run", "ABCDEF12-3456", "env:T").name()).isEqualTo("ferry_rehearsal_abcdef12");
  }

  @Test
  void aReferenceCannotNameAnythingButAScratchDatabase() {
    assertThat(ScratchDatabase.parse("scratch:shop@env:T")).isEmpty();
    assertThat(ScratchDatabase.parse("scratch:ferry_rehearsal_1a2b3c4d;drop@env:T")).isEmpty();
    assertThat(ScratchDatabase.parse("scratch:ferry_rehearsal_1a2b3c4d@scratch:ferry_rehearsal_1a2b3c4e@env:T")).isEmpty();
    assertThat(ScratchDatabase.parse("env:T")).isEmpty();
    assertThatThrownBy(() -> new ScratchDatabase("shop", "env:T")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theTrend_isMedianAndWorstOfTheSucceeded_andTheSuccessRateOfThoseThatRan() {
    List<RehearsalReport> reports =
        List.of(
            report(true, 10, null),
            report(true, 40, null),
            report(true, 20, null),
            report(false, 99, null),
            report(false, 0, "another run"));

    RehearsalTrend t = RehearsalTrend.of(reports);

    assertThat(t.considered()).isEqualTo(4);
    assertThat(t.succeeded()).isEqualTo(3);
    assertThat(t.successRate()).isEqualTo(0.75);
    assertThat(t.medianDowntime()).isEqualTo(Duration.ofSeconds(20));
    assertThat(t.worstDowntime()).isEqualTo(Duration.ofSeconds(40));
    assertThat(RehearsalTrend.of(List.of(report(true, 10, null), report(true, 20, null))).medianDowntime())
        .isEqualTo(Duration.ofSeconds(15));
    assertThat(RehearsalTrend.of(List.of()).successRate()).isNull();
  }

  static RehearsalReport report(boolean ok, long seconds, String skipped) {
    return new RehearsalReport(
        "rehearsal-shop-00000000", "shop", "single-phase", Instant.EPOCH, Instant.EPOCH, ok, List.of(), 0, 0, null,
        Duration.ofSeconds(seconds), List.of(), null, skipped);
  }
}

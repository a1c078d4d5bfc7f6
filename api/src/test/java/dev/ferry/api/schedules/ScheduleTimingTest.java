package dev.ferry.api.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.runbook.FieldError;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What the API checks before it asks Temporal: each bad field named. */
class ScheduleTimingTest {

  @Test
  void badTimings_areNamedByField() {
    assertThat(ScheduleTiming.cron("61 2 * * *", "UTC").problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * *", "UTC").problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * * *", "Mars/Olympus").problems()).extracting(FieldError::field).containsExactly("timezone");
    assertThat(ScheduleTiming.every(Duration.ofSeconds(30)).problems()).extracting(FieldError::field).containsExactly("interval");
    assertThat(new ScheduleTiming("0 2 * * *", Duration.ofHours(1), "UTC").problems()).extracting(FieldError::field).containsExactly("interval");
    assertThat(new ScheduleTiming(null, null, null).problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * * *", null).problems()).isEmpty();
    assertThat(ScheduleTiming.cron("*/15 9-17 * * MON-FRI", "Europe/Berlin").problems()).isEmpty();
  }

  @Test
  void theShortestInterval_isFiveMinutes_unlessATestSaysOtherwise() {
    assertThat(ScheduleTiming.every(Duration.ofMinutes(4)).problems())
        .singleElement()
        .satisfies(f -> assertThat(f.message()).isEqualTo("must be between 5m and 366d"));
    assertThat(ScheduleTiming.every(Duration.ofSeconds(2)).problems(Duration.ofSeconds(1))).isEmpty();
  }

  @Test
  void describe_isHowPeopleReadIt() {
    assertThat(ScheduleTiming.cron("0 2 * * *", "Europe/Berlin").describe()).isEqualTo("cron \"0 2 * * *\" Europe/Berlin");
    assertThat(ScheduleTiming.every(Duration.ofHours(6)).describe()).isEqualTo("every 6h");
    assertThat(ScheduleTiming.every(Duration.ofSeconds(90)).describe()).isEqualTo("every 90s");
  }
}

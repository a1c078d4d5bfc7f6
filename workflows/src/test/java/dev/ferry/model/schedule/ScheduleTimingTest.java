package dev.ferry.model.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.runbook.FieldError;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleTimingTest {

  @Test
  void cron_firesAtWallClockTimeInItsZone_acrossTheSpringAndAutumnChanges() {
    ScheduleTiming nightly = ScheduleTiming.cron("30 2 * * *", "Europe/Berlin");

    // Winter (UTC+1), the night 02:30 does not exist (29 March 2026), summer (UTC+2).
    assertThat(nightly.nextFireAfter(Instant.parse("2026-03-27T12:00:00Z"))).isEqualTo("2026-03-28T01:30:00Z");
    assertThat(nightly.nextFireAfter(Instant.parse("2026-03-28T01:30:00Z"))).isEqualTo("2026-03-29T01:30:00Z");
    assertThat(nightly.nextFireAfter(Instant.parse("2026-03-29T12:00:00Z"))).isEqualTo("2026-03-30T00:30:00Z");
    // 25 October 2026: 02:30 happens twice; it fires once.
    assertThat(nightly.nextFireAfter(Instant.parse("2026-10-24T12:00:00Z"))).isEqualTo("2026-10-25T00:30:00Z");
    assertThat(nightly.nextFireAfter(Instant.parse("2026-10-25T00:30:00Z"))).isEqualTo("2026-10-26T01:30:00Z");
    assertThat(nightly.nextFireAfter(Instant.parse("2026-10-25T01:10:00Z"))).isEqualTo("2026-10-26T01:30:00Z");
  }

  @Test
  void cron_weekdaysAndSteps() {
    ScheduleTiming weekdays = ScheduleTiming.cron("*/15 9-17 * * MON-FRI", "UTC");

    // Saturday 21 Nov 2026 → Monday 23rd 09:00.
    assertThat(weekdays.nextFireAfter(Instant.parse("2026-11-21T10:00:00Z"))).isEqualTo("2026-11-23T09:00:00Z");
    assertThat(weekdays.nextFireAfter(Instant.parse("2026-11-23T09:00:00Z"))).isEqualTo("2026-11-23T09:15:00Z");
  }

  @Test
  void interval_isCountedFromTheEpoch_likeTemporalsIntervalSchedules() {
    ScheduleTiming sixHours = ScheduleTiming.every(Duration.ofHours(6));

    assertThat(sixHours.nextFireAfter(Instant.parse("2026-11-22T13:14:15Z"))).isEqualTo("2026-11-22T18:00:00Z");
    assertThat(sixHours.nextFireAfter(Instant.parse("2026-11-22T18:00:00Z"))).isEqualTo("2026-11-23T00:00:00Z");
  }

  @Test
  void badTimings_areNamedByField() {
    assertThat(ScheduleTiming.cron("61 2 * * *", "UTC").problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * *", "UTC").problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * * *", "Mars/Olympus").problems()).extracting(FieldError::field).containsExactly("timezone");
    assertThat(ScheduleTiming.every(Duration.ofSeconds(30)).problems()).extracting(FieldError::field).containsExactly("interval");
    assertThat(new ScheduleTiming("0 2 * * *", Duration.ofHours(1), "UTC").problems()).extracting(FieldError::field).containsExactly("interval");
    assertThat(new ScheduleTiming(null, null, null).problems()).extracting(FieldError::field).containsExactly("cron");
    assertThat(ScheduleTiming.cron("0 2 * * *", null).problems()).isEmpty();
  }
}

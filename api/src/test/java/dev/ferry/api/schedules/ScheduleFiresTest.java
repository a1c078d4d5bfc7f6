package dev.ferry.api.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.schedules.FireRecord.Result;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * A schedule's recent fires from what Temporal, the rehearsals and the API each record: a
 * schedule firing every two hours from T0, whose first rehearsal ran five hours.
 */
class ScheduleFiresTest {
  static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");
  static final String R0 = "rehearsal-shop-0a1b2c3d-2026-11-22T00:00:00Z";
  static final String R6 = "rehearsal-shop-0a1b2c3d-2026-11-22T06:00:00Z";
  static final Instant NOW = T0.plus(Duration.ofHours(7));

  /** Every two hours from T0, as Temporal lists them: strictly after the start it is given. */
  static final BiFunction<Instant, Instant, List<Instant>> EVERY_2H =
      (from, to) -> {
        List<Instant> times = new ArrayList<>();
        for (Instant t = T0; !t.isAfter(to); t = t.plus(Duration.ofHours(2))) {
          if (t.isAfter(from)) {
            times.add(t);
          }
        }
        return times;
      };

  static ScheduleStatus temporal(boolean paused, Instant updatedAt, long actions, long skippedOverlap, List<String> running) {
    return new ScheduleStatus(
        paused,
        null,
        null,
        running,
        actions,
        skippedOverlap,
        List.of(new ScheduleStatus.Action(hours(6), hours(6).plusMillis(30), R6), new ScheduleStatus.Action(T0, T0.plusMillis(30), R0)),
        T0.minusSeconds(60),
        updatedAt);
  }

  static ScheduleRegistry.Rehearsal rehearsal(String id, Instant created, Instant ended, String state, String skipped) {
    return new ScheduleRegistry.Rehearsal(id, state, skipped != null ? "overlap-check" : "restore", created, ended, skipped);
  }

  static Instant hours(long h) {
    return T0.plus(Duration.ofHours(h));
  }

  @Test
  void firesTemporalSkipped_whileTheSchedulesRehearsalRan_areListedAtTheirFireTimes() {
    ScheduleFires.Summary s =
        ScheduleFires.summarize(
            temporal(false, T0, 2, 2, List.of(R6)),
            List.of(rehearsal(R6, hours(6), null, "RUNNING", null), rehearsal(R0, T0, hours(5), "SUCCEEDED", null)),
            0,
            List.of(),
            EVERY_2H,
            NOW);

    assertThat(s.started()).isEqualTo(2);
    assertThat(s.skipped()).isEqualTo(2);
    assertThat(s.recent()).extracting(FireRecord::at).containsExactly(hours(6), hours(4), hours(2), T0);
    assertThat(s.recent()).extracting(FireRecord::result).containsExactly(Result.STARTED, Result.SKIPPED, Result.SKIPPED, Result.STARTED);
    assertThat(s.recent().get(1).reason()).isEqualTo("the schedule's rehearsal " + R0 + " was still running (overlap policy SKIP)");
    assertThat(s.recent().get(1).rehearsalId()).isNull();
    assertThat(s.recent()).extracting(FireRecord::trigger).containsOnly(FireRecord.SCHEDULE);
    assertThat(s.recent().get(3).reason()).isEqualTo("succeeded");
    assertThat(s.recent().get(0).reason()).isNull();
  }

  @Test
  void aFireInsideAPauseMadeThroughFerry_isNotCountedAsSkipped() {
    List<ScheduleRegistry.Event> events =
        List.of(
            ScheduleRegistry.Event.of(hours(5).minusSeconds(1), "RESUMED", "olivia", null),
            ScheduleRegistry.Event.of(hours(3), "PAUSED", "olivia", "freeze week"));

    ScheduleFires.Summary s =
        ScheduleFires.summarize(
            temporal(false, hours(5), 2, 1, List.of()),
            List.of(rehearsal(R6, hours(6), hours(6).plusSeconds(90), "SUCCEEDED", null), rehearsal(R0, T0, hours(5), "SUCCEEDED", null)),
            0,
            events,
            EVERY_2H,
            NOW);

    assertThat(s.recent()).extracting(FireRecord::at).containsExactly(hours(6), hours(2), T0);
  }

  @Test
  void pausedOutsideFerry_fireTimesBeyondTemporalsCount_areNotListedAsSkips() {
    ScheduleFires.Summary s =
        ScheduleFires.summarize(
            temporal(true, hours(3), 1, 1, List.of()),
            List.of(rehearsal(R0, T0, hours(5), "FAILED", null)),
            0,
            List.of(),
            EVERY_2H,
            NOW);

    assertThat(s.recent()).extracting(FireRecord::at).contains(hours(2)).doesNotContain(hours(4));
    assertThat(s.recent()).filteredOn(f -> R0.equals(f.rehearsalId()) && f.result() == Result.STARTED)
        .singleElement()
        .satisfies(f -> assertThat(f.reason()).isEqualTo("failed"));
  }

  @Test
  void aRehearsalThatStoppedAtItsOverlapCheck_isASkippedFire_withItsReason() {
    String why = "not rehearsed: migration migration-shop-00000001 is running; a rehearsal never overlaps another run of the app";

    ScheduleFires.Summary s =
        ScheduleFires.summarize(
            temporal(false, T0, 2, 0, List.of()),
            List.of(rehearsal(R6, hours(6), hours(6).plusMillis(200), "CANCELLED", why), rehearsal(R0, T0, hours(1), "SUCCEEDED", null)),
            1,
            List.of(),
            EVERY_2H,
            NOW);

    assertThat(s.started()).isEqualTo(1);
    assertThat(s.skipped()).isEqualTo(1);
    assertThat(s.recent().get(0)).satisfies(f -> {
      assertThat(f.result()).isEqualTo(Result.SKIPPED);
      assertThat(f.reason()).isEqualTo(why);
      assertThat(f.rehearsalId()).isEqualTo(R6);
      assertThat(f.trigger()).isEqualTo(FireRecord.SCHEDULE);
    });
  }

  @Test
  void triggers_sayWhoTriggered_andOneTemporalSkipped_isAFireOfItsOwn() {
    String triggered = "rehearsal-shop-0a1b2c3d-2026-11-22T06:30:00Z";
    ScheduleStatus t =
        new ScheduleStatus(
            false, null, null, List.of(triggered), 2, 1,
            List.of(new ScheduleStatus.Action(hours(6).plusSeconds(1800), hours(6).plusSeconds(1800), triggered),
                new ScheduleStatus.Action(T0, T0, R0)),
            T0, T0);
    List<ScheduleRegistry.Event> events =
        List.of(
            new ScheduleRegistry.Event(hours(6).plusSeconds(1900), "TRIGGERED", "olivia", null, "SKIPPED", null,
                ScheduleFires.stillRunning(triggered)),
            new ScheduleRegistry.Event(hours(6).plusSeconds(1800), "TRIGGERED", "olivia", null, "STARTED", triggered, null));

    ScheduleFires.Summary s = ScheduleFires.summarize(t, List.of(rehearsal(R0, T0, hours(1), "SUCCEEDED", null)), 0, events, EVERY_2H, NOW);

    assertThat(s.recent()).extracting(FireRecord::trigger).containsExactly("trigger by olivia", "trigger by olivia", FireRecord.SCHEDULE);
    assertThat(s.recent()).extracting(FireRecord::result).containsExactly(Result.SKIPPED, Result.STARTED, Result.STARTED);
    assertThat(s.recent().get(0).rehearsalId()).isNull();
    assertThat(s.recent().get(0).reason()).contains(triggered, "still running");
    assertThat(s.recent().get(1).rehearsalId()).isEqualTo(triggered);
  }

  @Test
  void aTriggerFromTheTemporalCli_isATrigger_notAFireTime() {
    String fromCli = "rehearsal-shop-0a1b2c3d-2026-11-22T05:17:03Z";
    ScheduleStatus t =
        new ScheduleStatus(false, null, null, List.of(), 1, 0,
            List.of(new ScheduleStatus.Action(Instant.parse("2026-11-22T05:17:03Z"), Instant.parse("2026-11-22T05:17:03.040Z"), fromCli)),
            T0, T0);

    ScheduleFires.Summary s = ScheduleFires.summarize(t, List.of(), 0, List.of(), EVERY_2H, NOW);

    assertThat(s.recent()).singleElement().satisfies(f -> {
      assertThat(f.trigger()).isEqualTo("trigger");
      assertThat(f.scheduledFor()).isEqualTo("2026-11-22T05:17:03Z");
    });
  }

  @Test
  void aDeletedSchedule_showsTheLedgersFires_withoutTemporalsCounts() {
    ScheduleFires.Summary s =
        ScheduleFires.summarize(null, List.of(rehearsal(R0, T0, hours(5), "SUCCEEDED", null)), 0, List.of(), EVERY_2H, NOW);

    assertThat(s.started()).isNull();
    assertThat(s.skipped()).isNull();
    assertThat(s.recent()).singleElement().satisfies(f -> {
      assertThat(f.rehearsalId()).isEqualTo(R0);
      assertThat(f.scheduledFor()).isEqualTo(T0);
      assertThat(f.trigger()).isNull();
    });
  }

  @Test
  void theFireTime_isReadFromTheRehearsalsId() {
    assertThat(ScheduleFires.fireTimeOf(R0)).isEqualTo(T0);
    assertThat(ScheduleFires.fireTimeOf("rehearsal-shop-0a1b2c3d")).isNull();
  }
}

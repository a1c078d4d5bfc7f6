package dev.ferry.api.schedules;

import dev.ferry.api.db.ScheduleRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A schedule's recent fires, each started (which rehearsal, how it ended) or skipped (when and
 * why), put together from what each party records:
 *
 * <ul>
 *   <li>the rehearsals the schedule started, from their own rows in the ledger: one that found a
 *       migration or another rehearsal of the app running stopped at its overlap check and said
 *       why (a fire skipped by the rehearsal); and from Temporal's recent actions, for one the
 *       ledger has not heard of yet;
 *   <li>fires Temporal skipped because the schedule's last rehearsal still ran (overlap policy
 *       SKIP): Temporal only counts those, so their times are the schedule's own fire times, as
 *       Temporal computes them, that fell while one of its rehearsals ran and the schedule was not
 *       paused through Ferry, at most as many as Temporal counted;
 *   <li>triggers through Ferry, from the ledger's audit ({@code schedule_events}): who, and what
 *       the fire did, also when Temporal skipped it.
 * </ul>
 *
 * <p>Known gap: Temporal does not say when a schedule was paused outside Ferry (Temporal UI or
 * CLI). Fire times beyond Temporal's count are dropped, the newest first (a pause it is in now);
 * a pause made and undone outside Ferry while a rehearsal ran can still move which fire times
 * are listed. Temporal's own count ({@code skipped}) is exact.
 */
public final class ScheduleFires {
  /** How many fires a schedule's view shows. */
  public static final int RECENT = 20;

  private static final Pattern FIRE_TIME = Pattern.compile("-(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z)$");

  private ScheduleFires() {}

  /**
   * The fires and the counts a view shows.
   *
   * @param started rehearsals started that rehearsed (or are rehearsing); {@code null} when
   *     Temporal did not describe the schedule
   * @param skipped fires Temporal skipped plus rehearsals that stopped at their overlap check
   */
  public record Summary(Long started, Long skipped, List<FireRecord> recent) {}

  /** Why a fire was skipped while the schedule's own rehearsal ran. */
  static String stillRunning(String rehearsalId) {
    return rehearsalId == null
        ? "the schedule's last rehearsal was still running (overlap policy SKIP)"
        : "the schedule's rehearsal " + rehearsalId + " was still running (overlap policy SKIP)";
  }

  /** The fire time Temporal appended to a rehearsal's id, or {@code null}. */
  static Instant fireTimeOf(String rehearsalId) {
    Matcher m = FIRE_TIME.matcher(rehearsalId);
    return m.find() ? Instant.parse(m.group(1)) : null;
  }

  /**
   * @param temporal the schedule as Temporal describes it, or {@code null} (deleted, or
   *     Temporal did not answer): then only the ledger's rehearsals and triggers are shown
   * @param rehearsals the schedule's rehearsals in the ledger, newest first
   * @param skippedRehearsals how many of all its rehearsals stopped at their overlap check
   * @param events what was done to it through Ferry, newest first
   * @param matchingTimes the schedule's fire times in a span, from Temporal
   */
  public static Summary summarize(
      ScheduleStatus temporal,
      List<ScheduleRegistry.Rehearsal> rehearsals,
      long skippedRehearsals,
      List<ScheduleRegistry.Event> events,
      BiFunction<Instant, Instant, List<Instant>> matchingTimes,
      Instant now) {
    // Every rehearsal the schedule started, by id: the ledger's rows, then Temporal's actions.
    Map<String, FireRecord> fires = new LinkedHashMap<>();
    Map<String, Instant> ends = new LinkedHashMap<>();
    for (ScheduleRegistry.Rehearsal r : rehearsals) {
      boolean skipped = r.skipped() != null || "skipped".equals(r.phase());
      Instant scheduledFor = fireTimeOf(r.runId());
      fires.put(
          r.runId(),
          new FireRecord(
              r.createdAt(),
              scheduledFor,
              null,
              skipped ? FireRecord.Result.SKIPPED : FireRecord.Result.STARTED,
              r.runId(),
              skipped ? (r.skipped() == null ? "it found another run of the app running" : r.skipped()) : outcome(r.state())));
      ends.put(r.runId(), r.endedAt() != null ? r.endedAt() : running(temporal, r.runId()) ? now : null);
    }
    if (temporal != null) {
      for (ScheduleStatus.Action a : temporal.recent()) {
        FireRecord known = fires.get(a.rehearsalId());
        if (known == null) {
          fires.put(a.rehearsalId(), new FireRecord(a.startedAt(), a.scheduledAt(), null, FireRecord.Result.STARTED, a.rehearsalId(), null));
          ends.put(a.rehearsalId(), running(temporal, a.rehearsalId()) ? now : null);
        } else if (known.scheduledFor() == null) {
          fires.put(a.rehearsalId(), new FireRecord(known.at(), a.scheduledAt(), null, known.result(), known.rehearsalId(), known.reason()));
        }
      }
    }

    // Who triggered which through Ferry; a trigger Temporal skipped started nothing (no
    // rehearsal id) and is a fire of its own.
    Map<String, String> triggeredBy = new LinkedHashMap<>();
    List<FireRecord> skippedTriggers = new ArrayList<>();
    for (ScheduleRegistry.Event e : events) {
      if (!"TRIGGERED".equals(e.type())) {
        continue;
      }
      String by = "trigger by " + e.actor();
      if (e.rehearsalId() != null && fires.containsKey(e.rehearsalId())) {
        triggeredBy.putIfAbsent(e.rehearsalId(), by);
      } else if ("SKIPPED".equals(e.fireResult())) {
        skippedTriggers.add(new FireRecord(e.at(), e.at(), by, FireRecord.Result.SKIPPED, null, e.reason()));
      }
    }

    // The schedule's fire times over the span its rehearsals cover, as Temporal computes them.
    Instant oldest =
        fires.values().stream().map(f -> f.scheduledFor() != null ? f.scheduledFor() : f.at()).min(Comparator.naturalOrder()).orElse(null);
    // Temporal lists the times strictly after the start it is given: start a second early.
    List<Instant> times = temporal == null || oldest == null ? null : matchingTimes.apply(oldest.minusSeconds(1), now);
    Set<Instant> fireTimes = times == null ? Set.of() : new HashSet<>(times);
    Set<Instant> acted = new HashSet<>();
    fires.values().forEach(f -> acted.add(f.scheduledFor()));

    List<FireRecord> recent = new ArrayList<>();
    for (FireRecord f : fires.values()) {
      String trigger =
          triggeredBy.containsKey(f.rehearsalId())
              ? triggeredBy.get(f.rehearsalId())
              : times == null ? null : fireTimes.contains(f.scheduledFor()) ? FireRecord.SCHEDULE : "trigger";
      recent.add(f.withTrigger(trigger));
    }
    recent.addAll(skippedTriggers);
    if (times != null) {
      List<Instant[]> pauses = pauses(events, now);
      List<FireRecord> overlapped = new ArrayList<>();
      for (FireRecord f : fires.values()) {
        Instant end = ends.get(f.rehearsalId());
        Instant start = f.scheduledFor() != null ? f.scheduledFor() : f.at();
        if (end == null) {
          continue;
        }
        for (Instant t : times) {
          if (t.isAfter(start) && t.isBefore(end) && !acted.contains(t) && !inside(pauses, t)) {
            acted.add(t);
            overlapped.add(new FireRecord(t, t, FireRecord.SCHEDULE, FireRecord.Result.SKIPPED, null, stillRunning(f.rehearsalId())));
          }
        }
      }
      // Temporal counts every fire it skipped; more fire times than that fell in a pause made
      // outside Ferry (Temporal does not say when it paused), most likely the one it is in now.
      long apiTriggersSkipped =
          events.stream().filter(e -> "TRIGGERED".equals(e.type()) && "SKIPPED".equals(e.fireResult()) && e.rehearsalId() == null).count();
      long counted = Math.max(0, temporal.skippedOverlap() - apiTriggersSkipped);
      overlapped.sort(Comparator.comparing(FireRecord::at));
      recent.addAll(overlapped.subList(0, (int) Math.min(overlapped.size(), counted)));
    }
    recent.sort(Comparator.comparing(FireRecord::at).reversed());
    List<FireRecord> shown = List.copyOf(recent.subList(0, Math.min(RECENT, recent.size())));
    if (temporal == null) {
      return new Summary(null, null, shown);
    }
    return new Summary(
        Math.max(0, temporal.actions() - skippedRehearsals), temporal.skippedOverlap() + skippedRehearsals, shown);
  }

  private static boolean running(ScheduleStatus temporal, String rehearsalId) {
    return temporal != null && temporal.running().contains(rehearsalId);
  }

  private static String outcome(String state) {
    return switch (state == null ? "" : state) {
      case "SUCCEEDED" -> "succeeded";
      case "FAILED" -> "failed";
      case "CANCELLED" -> "cancelled";
      default -> null;
    };
  }

  /** When the schedule was paused through Ferry: from each pause to the resume after it, or now. */
  private static List<Instant[]> pauses(List<ScheduleRegistry.Event> events, Instant now) {
    List<Instant[]> pauses = new ArrayList<>();
    Instant pausedAt = null;
    for (int i = events.size() - 1; i >= 0; i--) {
      ScheduleRegistry.Event e = events.get(i);
      if ("PAUSED".equals(e.type()) && pausedAt == null) {
        pausedAt = e.at();
      } else if ("RESUMED".equals(e.type()) && pausedAt != null) {
        pauses.add(new Instant[] {pausedAt, e.at()});
        pausedAt = null;
      }
    }
    if (pausedAt != null) {
      pauses.add(new Instant[] {pausedAt, now});
    }
    return pauses;
  }

  private static boolean inside(List<Instant[]> pauses, Instant t) {
    return pauses.stream().anyMatch(p -> !t.isBefore(p[0]) && !t.isAfter(p[1]));
  }
}

package dev.ferry.testing;

import dev.ferry.activity.RehearsalActivities;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.ScratchDatabase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test stand-in for a rehearsal's own activities: the scratch databases (which exist until
 * dropped), the freeze probe, and the ledger's active runs and reports.
 */
public class FakeRehearsals implements RehearsalActivities, RehearsalLedgerActivities {
  /** Scratch databases created and not dropped yet. */
  public final Set<String> scratchDatabases = ConcurrentHashMap.newKeySet();
  public final List<String> dropped = new CopyOnWriteArrayList<>();
  public final List<String> created = new CopyOnWriteArrayList<>();
  /** What {@link #activeRuns} answers (besides nothing of the caller's own). */
  public final List<ActiveRun> active = new CopyOnWriteArrayList<>();
  /** The reports recorded, in order; also what {@link #recentRehearsals} reads. */
  public final List<RehearsalReport> reports = new CopyOnWriteArrayList<>();
  public volatile RuntimeException createFailure;
  public volatile RuntimeException dropFailure;

  @Override
  public String createScratchDatabase(ScratchDatabase scratch) {
    if (createFailure != null) {
      throw createFailure;
    }
    created.add(scratch.name());
    scratchDatabases.add(scratch.name());
    return scratch.reference();
  }

  @Override
  public void dropScratchDatabase(ScratchDatabase scratch) {
    if (dropFailure != null) {
      throw dropFailure;
    }
    dropped.add(scratch.name());
    scratchDatabases.remove(scratch.name());
  }

  @Override
  public String probeFreeze(String sourceUrlRef) {
    return "a freeze would be allowed; it would end 2 session(s)";
  }

  @Override
  public List<ActiveRun> activeRuns(String app) {
    return List.copyOf(active);
  }

  @Override
  public void recordRehearsalReport(RehearsalReport report) {
    if (reports.stream().noneMatch(r -> r.rehearsalId().equals(report.rehearsalId()))) {
      reports.add(report);
    }
  }

  @Override
  public List<RehearsalReport> recentRehearsals(String app, int limit) {
    List<RehearsalReport> mine = new ArrayList<>(reports.stream().filter(r -> r.app().equals(app)).toList());
    mine.sort(Comparator.comparing(RehearsalReport::startedAt).reversed());
    return mine.subList(0, Math.min(limit, mine.size()));
  }
}

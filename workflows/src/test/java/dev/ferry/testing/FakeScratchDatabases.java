package dev.ferry.testing;

import dev.ferry.activity.RehearsalActivities;
import dev.ferry.model.rehearsal.ScratchDatabase;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scratch databases that exist in memory only, for tests that keep the rehearsals' ledger
 * activities real (API, command line).
 */
public class FakeScratchDatabases implements RehearsalActivities {
  /** Created and not dropped yet. */
  public final Set<String> existing = ConcurrentHashMap.newKeySet();

  @Override
  public String createScratchDatabase(ScratchDatabase scratch) {
    existing.add(scratch.name());
    return scratch.reference();
  }

  @Override
  public void dropScratchDatabase(ScratchDatabase scratch) {
    existing.remove(scratch.name());
  }

  @Override
  public String probeFreeze(String sourceUrlRef) {
    return "a freeze would be allowed; it would end 0 session(s)";
  }
}

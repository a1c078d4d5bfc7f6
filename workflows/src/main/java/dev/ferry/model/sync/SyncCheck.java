package dev.ferry.model.sync;

import java.util.List;

/**
 * What the runbook's sync method would refuse about these two databases, found before anything
 * is changed (preflight), so the approver is never asked to start a run that cannot sync.
 *
 * @param refusals every reason the method would refuse, each naming what to fix; empty when it
 *     can run
 * @param warnings what the approver should know, though it does not stop the run
 */
public record SyncCheck(List<String> refusals, List<String> warnings) {
  public SyncCheck {
    refusals = List.copyOf(refusals);
    warnings = List.copyOf(warnings);
  }
}

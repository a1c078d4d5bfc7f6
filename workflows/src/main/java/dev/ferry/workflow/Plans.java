package dev.ferry.workflow;

import dev.ferry.model.runbook.GateSpec;
import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.RehearsalsSpec;
import dev.ferry.model.runbook.Strategy;
import dev.ferry.model.runbook.Runbook;
import java.util.ArrayList;
import java.util.List;

/**
 * What a runbook would run, step by step, without running anything: the same plan and the same
 * skip rules the workflow follows, so what {@code ferry plan} shows is what a run does.
 */
public final class Plans {
  private Plans() {}

  /** What a run of {@code runbook} started now would do. */
  public static List<PlannedStep> of(Runbook runbook) {
    return of(runbook, StreamCopy.applies(runbook));
  }

  /**
   * The plan of a run that streams its copy or not: a run begun before the streaming copy
   * existed keeps showing the dump's steps when it replays.
   */
  static List<PlannedStep> of(Runbook runbook, boolean streamCopy) {
    List<PlannedStep> plan = new ArrayList<>();
    for (String step : Steps.of(runbook, streamCopy)) {
      if (step.startsWith(Steps.gate(""))) {
        String gate = step.substring(Steps.gate("").length());
        GateSpec spec = runbook.gate(gate);
        plan.add(
            new PlannedStep(
                step,
                true,
                false,
                "waits up to " + GateKeeper.format(spec.timeout()) + " for an approval (reminder after "
                    + GateKeeper.format(spec.reminder()) + "), then rejects" + budget(runbook, gate),
                spec.approvers()));
      } else {
        String skip = Steps.skipReason(runbook, step);
        plan.add(new PlannedStep(step, false, skip != null, skip != null ? skip : Steps.purpose(runbook, streamCopy, step), List.of()));
      }
    }
    return plan;
  }

  /** The cutover budget, at the gate before the downtime of a runbook with a rehearsals section. */
  private static String budget(Runbook runbook, String gate) {
    RehearsalsSpec spec = runbook.rehearsals();
    String budgeted = runbook.strategy() == Strategy.MULTI_PHASE ? Gates.CUTOVER : Gates.START;
    if (spec == null || !gate.equals(budgeted)) {
      return "";
    }
    return "; refuses approval (unless overridden) when the latest rehearsal failed, ended more than "
        + GateKeeper.format(spec.maxAge() == null ? RehearsalsSpec.DEFAULT_MAX_AGE : spec.maxAge()) + " ago"
        + (spec.maxDowntime() == null ? "" : " or estimated more than " + GateKeeper.format(spec.maxDowntime()) + " of downtime");
  }
}

package dev.ferry.workflow;

import dev.ferry.model.runbook.GateSpec;
import dev.ferry.model.runbook.Runbook;
import java.util.ArrayList;
import java.util.List;

/**
 * What a runbook would run, step by step, without running anything: the same plan and the same
 * skip rules the workflow follows, so what {@code ferry plan} shows is what a run does.
 */
public final class Plans {
  private Plans() {}

  public static List<PlannedStep> of(Runbook runbook) {
    List<PlannedStep> plan = new ArrayList<>();
    for (String step : Steps.of(runbook.strategy())) {
      if (step.startsWith(Steps.gate(""))) {
        String gate = step.substring(Steps.gate("").length());
        GateSpec spec = runbook.gate(gate);
        plan.add(
            new PlannedStep(
                step,
                true,
                false,
                "waits up to " + GateKeeper.format(spec.timeout()) + " for an approval (reminder after "
                    + GateKeeper.format(spec.reminder()) + "), then rejects",
                spec.approvers()));
      } else {
        String skip = Steps.skipReason(runbook, step);
        plan.add(new PlannedStep(step, false, skip != null, skip != null ? skip : Steps.purpose(step), List.of()));
      }
    }
    return plan;
  }
}

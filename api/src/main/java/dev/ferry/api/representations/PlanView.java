package dev.ferry.api.representations;

import dev.ferry.workflow.PlannedStep;
import java.util.List;

/**
 * {@code POST /api/runbooks/plan}: what a run of this runbook would do, step by step, without
 * doing anything (the same step list the workflow follows).
 */
public record PlanView(String app, String strategy, List<Step> steps) {

  /**
   * @param gate whether the run waits here for an approval
   * @param skipped whether the run would skip it
   * @param reason why it is skipped, or what it does
   * @param approvers for a gate: who may decide (empty: anyone with the approver role)
   */
  public record Step(int number, String name, boolean gate, boolean skipped, String reason, List<String> approvers) {}

  public static PlanView of(String app, String strategy, List<PlannedStep> plan) {
    List<Step> steps = new java.util.ArrayList<>();
    for (int i = 0; i < plan.size(); i++) {
      PlannedStep p = plan.get(i);
      steps.add(new Step(i + 1, p.name(), p.gate(), p.skipped(), p.reason(), p.approvers()));
    }
    return new PlanView(app, strategy, steps);
  }
}

package dev.ferry.workflow;

import java.util.List;

/**
 * One step of what a runbook would run, in order, as {@code ferry plan} and {@code POST
 * /api/runbooks/plan} show it.
 *
 * @param name the step's name, as the run's status will show it (gates: {@code gate:<name>})
 * @param gate whether it is a gate, waiting for an approval
 * @param skipped whether the run will skip it (its provider is not configured)
 * @param reason why it is skipped, or what it does
 * @param approvers for a gate: who may decide (empty: anyone with the approver role)
 */
public record PlannedStep(String name, boolean gate, boolean skipped, String reason, List<String> approvers) {}

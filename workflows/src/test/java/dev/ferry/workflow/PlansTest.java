package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.Runbooks;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlansTest {
  @Test
  void singlePhasePlan_isTheStepsTheWorkflowRuns_withTheGatesApprovers() {
    List<PlannedStep> plan = Plans.of(Runbooks.shop());

    assertThat(plan).extracting(PlannedStep::name).containsExactlyElementsOf(Steps.SINGLE_PHASE_STREAM);
    assertThat(plan).filteredOn(PlannedStep::gate).extracting(PlannedStep::name)
        .containsExactly("gate:start", "gate:decommission");
    assertThat(plan.get(1).approvers()).isEqualTo(Runbooks.shop().gate("start").approvers());
    assertThat(plan.get(1).reason()).isEqualTo("waits up to 1d for an approval (reminder after 12h), then rejects");
    assertThat(plan).filteredOn(s -> !s.gate()).allSatisfy(s -> assertThat(s.reason()).isNotEqualTo(s.name()));
    // Without a dns section Ferry moves no traffic, so it keeps the source frozen: the plan says so.
    assertThat(plan).filteredOn(PlannedStep::skipped).extracting(PlannedStep::name)
        .containsExactly(
            "lower-dns-ttl", "maintenance-on", "copy-config-vars", "restore-point", "shift-traffic", "maintenance-off",
            "decommission");
    assertThat(Plans.of(Runbooks.shopWithEdge())).noneMatch(PlannedStep::skipped);
  }

  @Test
  void multiPhasePlan_hasTheSyncStepsAndTheCutoverGate() {
    List<PlannedStep> plan = Plans.of(Runbooks.shopMultiPhase());

    assertThat(plan).extracting(PlannedStep::name).containsExactlyElementsOf(Steps.MULTI_PHASE_STREAM);
    assertThat(plan).filteredOn(PlannedStep::gate).extracting(PlannedStep::name)
        .containsExactly("gate:start", "gate:cutover", "gate:decommission");
    assertThat(plan).filteredOn(s -> s.name().equals("gate:cutover")).singleElement()
        .satisfies(g -> assertThat(g.reason()).contains("4h", "reminder after 1h"));
    assertThat(plan).filteredOn(PlannedStep::skipped).extracting(PlannedStep::name)
        .containsExactly("lower-dns-ttl", "maintenance-on", "copy-config-vars", "restore-point", "shift-traffic", "maintenance-off");
  }

  @Test
  void streamingCopy_isTheDefault_andTheDumpMethodKeepsSnapshotRestoreAndDiscard() {
    assertThat(Plans.of(Runbooks.shop())).filteredOn(s -> s.name().equals("copy")).singleElement()
        .satisfies(s -> assertThat(s.reason()).contains("exported snapshot", "no files", "checks its rows"));
    assertThat(Plans.of(Runbooks.shop())).extracting(PlannedStep::name).doesNotContain("snapshot", "restore", "discard-snapshot");
    assertThat(Plans.of(Runbooks.shopWithDump())).extracting(PlannedStep::name).containsExactlyElementsOf(Steps.SINGLE_PHASE);
    assertThat(Plans.of(Runbooks.shopMultiPhaseWithDump())).extracting(PlannedStep::name).containsExactlyElementsOf(Steps.MULTI_PHASE);
    assertThat(Plans.of(Runbooks.shopMultiPhase())).filteredOn(s -> s.name().equals("start-sync")).singleElement()
        .satisfies(s -> assertThat(s.reason()).startsWith("installs change capture on the source, before the copy"));
  }

  @Test
  void logicalSync_copiesWithItsSubscription_andHasNoCopyStep() {
    String logical = Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical");
    assertThat(Plans.of(dev.ferry.model.runbook.RunbookParser.parse(logical))).extracting(PlannedStep::name)
        .containsExactlyElementsOf(Steps.MULTI_PHASE);
  }

  @Test
  void logicalPlan_saysHowTheSubscriptionLogsInToTheSource() {
    String logical = Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical");

    assertThat(startSync(logical)).contains("ferry_repl_", "only the worker knows", "sync.replicationRole: per-run");
    assertThat(startSync(logical.replace("catchUpTimeout: 2h", "catchUpTimeout: 2h\n  replicationRole: source-credential")))
        .contains("source credential", "pg_subscription until the drain", "sync.replicationRole: source-credential");
    assertThat(startSync(Runbooks.SHOP_MULTI_PHASE_YAML)).doesNotContain("replicationRole");
  }

  private static String startSync(String yaml) {
    return Plans.of(dev.ferry.model.runbook.RunbookParser.parse(yaml)).stream()
        .filter(s -> s.name().equals(Steps.START_SYNC))
        .findFirst()
        .orElseThrow()
        .reason();
  }
}

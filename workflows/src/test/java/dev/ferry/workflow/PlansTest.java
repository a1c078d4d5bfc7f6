package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.Runbooks;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlansTest {
  @Test
  void singlePhasePlan_isTheStepsTheWorkflowRuns_withTheGatesApprovers() {
    List<PlannedStep> plan = Plans.of(Runbooks.shop());

    assertThat(plan).extracting(PlannedStep::name).containsExactlyElementsOf(Steps.SINGLE_PHASE);
    assertThat(plan).filteredOn(PlannedStep::gate).singleElement().satisfies(g -> {
      assertThat(g.name()).isEqualTo("gate:start");
      assertThat(g.approvers()).isEqualTo(Runbooks.shop().gate("start").approvers());
    });
    assertThat(plan).filteredOn(s -> !s.gate()).allSatisfy(s -> assertThat(s.reason()).isNotEqualTo(s.name()));
  }
}

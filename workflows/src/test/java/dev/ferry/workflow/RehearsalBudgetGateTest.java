package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.Runbooks;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cutover budget (runbook section {@code rehearsals}) at the gate before the write downtime:
 * it shows what recent rehearsals measured, refuses approval when the latest one failed, is too
 * old or estimated too much downtime, lifts the refusal when a good report appears, and lets an
 * approver override it with a comment that is recorded.
 */
class RehearsalBudgetGateTest extends WorkflowTestBase {
  static final String BUDGET = "rehearsals:\n  maxDowntime: 5m\n  maxAge: 7d\n";

  static Runbook singlePhase() {
    return RunbookParser.parse(Runbooks.SHOP_YAML + BUDGET);
  }

  /** A report of the shop that finished {@code agoMinutes} before the test server's now. */
  RehearsalReport report(String id, boolean ok, long downtimeSeconds, long agoMinutes) {
    Instant finished = Instant.ofEpochMilli(env.currentTimeMillis()).minus(Duration.ofMinutes(agoMinutes));
    return new RehearsalReport(
        id, "shop", "single-phase", finished.minusSeconds(60), finished, ok, List.of(), 1000, 10, "MATCH",
        ok ? Duration.ofSeconds(downtimeSeconds) : null, ok ? List.of() : List.of("restore: out of disk"),
        ok ? "single-phase: …" : null, null);
  }

  static GateDecision approve(String gate, String comment) {
    return new GateDecision(gate, Verdict.APPROVE, APPROVER, comment);
  }

  @Test
  void withoutAnyRehearsal_theStartGateRefusesApproval_thenAcceptsOnceAGoodReportAppears() {
    MigrationWorkflow run = start(singlePhase());
    RunStatus atGate = awaitGate(run, "start");
    assertThat(atGate.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("cutover budget: at most 5 min 0 s of downtime"))
        .anySatisfy(e -> assertThat(e).startsWith("OVER BUDGET: approval is refused (no rehearsal of shop has run"));

    assertRefused(() -> run.decide(approve("start", "looks good")), GateDecisionRefused.Reason.OVER_BUDGET);

    rehearsals.reports.add(report("rehearsal-shop-00000001", true, 120, 30));
    env.sleep(GateKeeper.BUDGET_RECHECK.plusMinutes(1));
    RunStatus rechecked =
        Eventually.get("the budget read again", run::status,
            s -> s.pendingGate() != null && s.pendingGate().evidence().stream().noneMatch(e -> e.startsWith("OVER BUDGET")));
    assertThat(rechecked.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).startsWith("rehearsals: estimated downtime median 2 min 0 s, worst 2 min 0 s over the last 1"))
        .anySatisfy(e -> assertThat(e).startsWith("latest rehearsal rehearsal-shop-00000001 succeeded at "));
    assertThat(rechecked.pendingGate().evidenceDigest()).isNotEqualTo(atGate.pendingGate().evidenceDigest());

    Decision accepted = run.decide(approve("start", "rehearsed this morning"));
    assertThat(accepted.verdict()).isEqualTo(Verdict.APPROVE);
    assertThat(decommission(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void aFailedLatestRehearsal_refuses_evenAfterEarlierGoodOnes() {
    rehearsals.reports.add(report("rehearsal-shop-00000001", true, 60, 120));
    rehearsals.reports.add(report("rehearsal-shop-00000002", false, 0, 60));
    MigrationWorkflow run = start(singlePhase());

    RunStatus atGate = awaitGate(run, "start");

    assertThat(atGate.pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).contains("the latest rehearsal rehearsal-shop-00000002 failed: restore: out of disk"));
    assertRefused(() -> run.decide(approve("start", null)), GateDecisionRefused.Reason.OVER_BUDGET);
  }

  @Test
  void aLatestRehearsalOverTheBudget_orTooOld_refuses() {
    rehearsals.reports.add(report("rehearsal-shop-00000001", true, 301, 10));
    MigrationWorkflow run = start(singlePhase());
    assertThat(awaitGate(run, "start").pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).contains("estimated 5 min 1 s of downtime; the budget is 5 min 0 s"));
    assertRefused(() -> run.decide(approve("start", "fine")), GateDecisionRefused.Reason.OVER_BUDGET);

    rehearsals.reports.clear();
    rehearsals.reports.add(report("rehearsal-shop-00000002", true, 60, 8 * 24 * 60));
    MigrationWorkflow old = start(singlePhase());
    assertThat(awaitGate(old, "start").pendingGate().evidence())
        .anySatisfy(e -> assertThat(e).contains("more than the runbook's maxAge of 7 d 0 h ago"));
    assertRefused(() -> old.decide(approve("start", "fine")), GateDecisionRefused.Reason.OVER_BUDGET);
  }

  @Test
  void anApprover_overridesTheBudgetWithACommentThatSaysWhy_andTheOverrideIsRecorded() {
    MigrationWorkflow run = start(singlePhase());
    awaitGate(run, "start");
    assertRefused(() -> run.decide(approve("start", "override:   ")), GateDecisionRefused.Reason.OVER_BUDGET);

    Decision d = run.decide(approve("start", "override: the rehearsal host is down; the database is 2 MB"));

    assertThat(d.comment()).isEqualTo("override: the rehearsal host is down; the database is 2 MB");
    RunStatus result = decommission(run);
    assertThat(result.state()).isEqualTo(RunState.SUCCEEDED);
    assertThat(result.notes()).anySatisfy(n -> assertThat(n).startsWith("cutover budget overridden at gate start by arjun: override:"));
    assertThat(databases.ledger)
        .anySatisfy(e -> {
          assertThat(e.type()).isEqualTo(RunEventType.NOTE);
          assertThat(e.actor()).isEqualTo(APPROVER);
          assertThat(e.detail()).contains("cutover budget overridden", "the rehearsal host is down");
        })
        .anySatisfy(e -> {
          assertThat(e.type()).isEqualTo(RunEventType.DECISION);
          assertThat(e.detail()).contains("override: the rehearsal host is down");
        });
  }

  @Test
  void aRejection_needsNoOverride() {
    MigrationWorkflow run = start(singlePhase());
    awaitGate(run, "start");

    run.decide(reject("start", APPROVER));

    assertThat(resultOf(run).state()).isEqualTo(RunState.REJECTED);
  }

  @Test
  void withoutARehearsalsSection_theGateShowsNoBudget_andReadsNoReports() {
    MigrationWorkflow run = start(Runbooks.shop());

    assertThat(awaitGate(run, "start").pendingGate().evidence()).noneMatch(e -> e.startsWith("cutover budget"));
    run.decide(WorkflowTestBase.approve("start", APPROVER));
    assertThat(decommission(run).state()).isEqualTo(RunState.SUCCEEDED);
  }

  @Test
  void multiPhase_checksTheBudgetAtTheCutoverGate_notAtStart() {
    MigrationWorkflow run = start(RunbookParser.parse(Runbooks.SHOP_MULTI_PHASE_YAML + BUDGET));
    assertThat(awaitGate(run, "start").pendingGate().evidence()).noneMatch(e -> e.startsWith("cutover budget"));
    run.decide(WorkflowTestBase.approve("start", APPROVER));

    RunStatus atCutover = awaitGateSkippingTime(run, "cutover");
    assertThat(atCutover.pendingGate().evidence()).anySatisfy(e -> assertThat(e).startsWith("OVER BUDGET"));
    assertRefused(() -> run.decide(approve("cutover", "go")), GateDecisionRefused.Reason.OVER_BUDGET);
    Decision d = run.decide(approve("cutover", "override: accepted by the product owner"));
    assertThat(d.verdict()).isEqualTo(Verdict.APPROVE);
  }

  @Test
  void thePlan_saysWhichGateHoldsTheBudget() {
    List<PlannedStep> single = Plans.of(singlePhase());
    assertThat(single).filteredOn(p -> p.name().equals("gate:start")).singleElement()
        .satisfies(p -> assertThat(p.reason()).endsWith("refuses approval (unless overridden) when the latest rehearsal failed,"
            + " ended more than 7d ago or estimated more than 5m of downtime"));
    assertThat(single).filteredOn(p -> p.name().equals("gate:decommission")).singleElement()
        .satisfies(p -> assertThat(p.reason()).doesNotContain("rehearsal"));
    List<PlannedStep> multi = Plans.of(RunbookParser.parse(Runbooks.SHOP_MULTI_PHASE_YAML + BUDGET));
    assertThat(multi).filteredOn(p -> p.name().equals("gate:cutover")).singleElement()
        .satisfies(p -> assertThat(p.reason()).contains("latest rehearsal"));
    assertThat(multi).filteredOn(p -> p.name().equals("gate:start")).singleElement()
        .satisfies(p -> assertThat(p.reason()).doesNotContain("rehearsal"));
  }

  @Test
  void theBudgetJudgement_isPure_andSkippedRehearsalsDoNotCount() {
    Instant now = Instant.parse("2026-11-22T12:00:00Z");
    var spec = new dev.ferry.model.runbook.RehearsalsSpec(Duration.ofMinutes(5), Duration.ofDays(7));
    RehearsalReport good =
        new RehearsalReport("rehearsal-shop-00000001", "shop", "single-phase", now.minusSeconds(3600), now.minusSeconds(3500), true,
            List.of(), 0, 0, "MATCH", Duration.ofSeconds(90), List.of(), "…", null);
    RehearsalReport skipped =
        new RehearsalReport("rehearsal-shop-00000002", "shop", "single-phase", now.minusSeconds(60), now.minusSeconds(59), false,
            List.of(), 0, 0, null, null, List.of(), null, "migration-shop-1 is RUNNING");

    CutoverBudget.Verdict v = CutoverBudget.judge("shop", spec, List.of(skipped, good), now);

    assertThat(v.refusal()).isNull();
    assertThat(v.evidence()).anySatisfy(e -> assertThat(e).contains("latest rehearsal rehearsal-shop-00000001 succeeded"));
    assertThat(CutoverBudget.isOverride("Override: because")).isTrue();
    assertThat(CutoverBudget.isOverride("override:")).isFalse();
    assertThat(CutoverBudget.isOverride("I override")).isFalse();
  }
}

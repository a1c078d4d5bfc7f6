package dev.ferry.workflow;

import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.Decision;
import dev.ferry.model.Evidence;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.GateDecisionRefused.Reason;
import dev.ferry.model.PendingGate;
import dev.ferry.model.RefusedDecision;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.GateSpec;
import dev.ferry.model.runbook.Runbook;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;

/**
 * The run's gates: which one is pending, who may decide it, and what was decided. One rule set
 * serves the update validator, the update handler and the signal, so all three agree.
 */
final class GateKeeper {
  private static final Logger log = Workflow.getLogger(GateKeeper.class);
  /** The deadline's own name in the decision record. */
  static final String DEADLINE_DECIDER = "ferry";
  /** Refused signals kept in status; older ones are dropped so a noisy client cannot grow state. */
  private static final int MAX_REFUSED_KEPT = 50;

  private final Runbook runbook;
  private final String startedBy;
  private final Map<String, Decision> decisions = new LinkedHashMap<>();
  private final List<RefusedDecision> refused = new ArrayList<>();
  private PendingGate pending;

  private final ApprovalKeys keys;

  GateKeeper(Runbook runbook, String startedBy, ApprovalKeys keys) {
    this.runbook = runbook;
    this.startedBy = startedBy;
    this.keys = keys;
  }

  /**
   * Opens a gate showing the evidence and waits for a decision; if nobody decided when the
   * runbook's reminder is due, calls {@code remind}; at the deadline the gate rejects. It never
   * approves on its own.
   */
  Decision await(String gate, List<String> evidence, Runnable remind) {
    return await(gate, evidence, remind, () -> false);
  }

  /**
   * {@link #await}, also ending the wait, undecided ({@code null}), as soon as {@code closeWhen}
   * holds: the run can no longer go where the gate leads (the sync stopped while the cutover
   * gate waited).
   */
  Decision await(String gate, List<String> evidence, Runnable remind, java.util.function.BooleanSupplier closeWhen) {
    GateSpec spec = runbook.gate(gate);
    Instant openedAt = now();
    Duration remindAfter = spec.reminder();
    String digest = Evidence.digest(evidence);
    pending =
        new PendingGate(
            gate,
            openedAt,
            openedAt.plus(remindAfter),
            openedAt.plus(spec.timeout()),
            spec.approvers(),
            spec.allowSelfApproval(),
            List.copyOf(evidence),
            digest);
    boolean decided;
    try {
      decided = Workflow.await(remindAfter, () -> decisions.containsKey(gate) || closeWhen.getAsBoolean());
      if (!decided) {
        remind.run();
        decided =
            Workflow.await(spec.timeout().minus(remindAfter), () -> decisions.containsKey(gate) || closeWhen.getAsBoolean());
      }
    } finally {
      pending = null; // also when the run is cancelled while it waits
    }
    if (!decisions.containsKey(gate) && closeWhen.getAsBoolean()) {
      return null;
    }
    if (!decided) {
      decisions.put(
          gate,
          new Decision(
              gate,
              Verdict.REJECT,
              DEADLINE_DECIDER,
              "nobody decided within " + format(spec.timeout()),
              now(),
              Decision.VIA_DEADLINE,
              digest));
    }
    return decisions.get(gate);
  }

  /** How often a gate with a cutover budget reads the rehearsal reports again while it waits. */
  static final Duration BUDGET_RECHECK = Duration.ofMinutes(5);

  /** Why the pending gate refuses approval without an override (its cutover budget), or null. */
  private String budgetRefusal;

  /**
   * {@link #await(String, List, Runnable, java.util.function.BooleanSupplier)} for a gate with a cutover budget: the budget's lines
   * join the evidence, and while the gate waits the budget is read again every {@link
   * #BUDGET_RECHECK}, so a new rehearsal report can lift a refusal (the evidence, and its digest,
   * change with it). Approval is refused while the budget refuses, unless the comment overrides
   * it ({@link CutoverBudget#isOverride}).
   */
  Decision awaitWithBudget(
      String gate,
      List<String> evidence,
      Runnable remind,
      java.util.function.Supplier<CutoverBudget.Verdict> budget,
      java.util.function.BooleanSupplier closeWhen) {
    GateSpec spec = runbook.gate(gate);
    Instant openedAt = now();
    Instant remindAt = openedAt.plus(spec.reminder());
    Instant deadline = openedAt.plus(spec.timeout());
    show(gate, spec, openedAt, remindAt, deadline, evidence, budget.get());
    boolean decided = false;
    boolean reminded = false;
    String lastDigest = pending.evidenceDigest();
    try {
      while (true) {
        Instant t = now();
        if (!t.isBefore(deadline)) {
          break;
        }
        Duration wait = Duration.between(t, deadline);
        if (!reminded && t.isBefore(remindAt)) {
          wait = min(wait, Duration.between(t, remindAt));
        }
        wait = min(wait, BUDGET_RECHECK);
        if (Workflow.await(wait, () -> decisions.containsKey(gate) || closeWhen.getAsBoolean())) {
          decided = decisions.containsKey(gate);
          break;
        }
        if (!reminded && !now().isBefore(remindAt)) {
          remind.run();
          reminded = true;
        }
        if (now().isBefore(deadline)) {
          show(gate, spec, openedAt, remindAt, deadline, evidence, budget.get());
          lastDigest = pending.evidenceDigest();
        }
      }
    } finally {
      pending = null; // also when the run is cancelled while it waits
      budgetRefusal = null;
    }
    if (!decided && closeWhen.getAsBoolean()) {
      return null;
    }
    if (!decided) {
      decisions.put(
          gate,
          new Decision(
              gate, Verdict.REJECT, DEADLINE_DECIDER, "nobody decided within " + format(spec.timeout()), now(),
              Decision.VIA_DEADLINE, lastDigest));
    }
    return decisions.get(gate);
  }

  private void show(
      String gate, GateSpec spec, Instant openedAt, Instant remindAt, Instant deadline, List<String> evidence,
      CutoverBudget.Verdict verdict) {
    List<String> all = new ArrayList<>(evidence);
    all.addAll(verdict.evidence());
    pending =
        new PendingGate(
            gate, openedAt, remindAt, deadline, spec.approvers(), spec.allowSelfApproval(), List.copyOf(all), Evidence.digest(all));
    budgetRefusal = verdict.refusal();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Refuses a decision the pending gate cannot take; does nothing otherwise. */
  void validate(GateDecision d) {
    if (d == null || blank(d.gate()) || d.verdict() == null || blank(d.approver())) {
      throw new GateDecisionRefused(
          Reason.INVALID, "a decision needs a gate, a verdict (APPROVE or REJECT) and an approver");
    }
    Decision earlier = decisions.get(d.gate());
    if (earlier != null) {
      throw new GateDecisionRefused(
          Reason.ALREADY_DECIDED,
          "gate "
              + d.gate()
              + " was already "
              + (earlier.verdict() == Verdict.APPROVE ? "approved" : "rejected")
              + " by "
              + earlier.decidedBy()
              + " at "
              + earlier.decidedAt());
    }
    if (pending == null || !pending.gate().equals(d.gate())) {
      throw new GateDecisionRefused(
          Reason.NOT_PENDING,
          "gate "
              + d.gate()
              + " is not waiting for a decision"
              + (pending == null ? "" : " (the run waits at gate " + pending.gate() + ")"));
    }
    if (d.approver().equals(startedBy) && !pending.allowSelfApproval()) {
      throw new GateDecisionRefused(
          Reason.SELF_APPROVAL,
          d.approver() + " started this run and cannot decide its gates (four eyes)");
    }
    if (!pending.approvers().isEmpty() && !pending.approvers().contains(d.approver())) {
      throw new GateDecisionRefused(
          Reason.NOT_AN_APPROVER,
          d.approver()
              + " is not an approver of gate "
              + d.gate()
              + " (the runbook lists "
              + String.join(", ", pending.approvers())
              + ")");
    }
    if (d.verdict() == Verdict.REJECT && blank(d.comment())) {
      throw new GateDecisionRefused(Reason.COMMENT_REQUIRED, "a rejection must say why");
    }
    // With keys, only the API's signature opens a gate: a signal sent straight to Temporal,
    // naming any approver it likes, does not. Pure computation: it replays.
    if (!keys.accepts(Workflow.getInfo().getWorkflowId(), d, d.evidenceDigest())) {
      throw new GateDecisionRefused(
          Reason.UNSIGNED, "this worker accepts only decisions signed by Ferry's API; decide through the API or `ferry approve`");
    }
    if (d.evidenceDigest() != null && !d.evidenceDigest().equals(pending.evidenceDigest())) {
      throw new GateDecisionRefused(
          Reason.STALE_EVIDENCE,
          "the evidence of gate " + d.gate() + " changed since it was shown (digest " + shortDigest(d.evidenceDigest())
              + ", now " + shortDigest(pending.evidenceDigest()) + "): look again and decide on what it shows now");
    }
    if (d.verdict() == Verdict.APPROVE && budgetRefusal != null && !CutoverBudget.isOverride(d.comment())) {
      throw new GateDecisionRefused(
          Reason.OVER_BUDGET,
          "gate " + d.gate() + " refuses approval: " + budgetRefusal + "; to approve anyway, start the comment with \""
              + CutoverBudget.OVERRIDE_PREFIX + "\" and say why");
    }
  }

  /** Whether the pending gate's cutover budget refuses approval now. */
  boolean overBudget() {
    return budgetRefusal != null;
  }

  /** Records a valid decision; refuses an invalid one. */
  Decision accept(GateDecision d, String via) {
    validate(d);
    Decision decision =
        new Decision(
            d.gate(), d.verdict(), d.approver(), blankToNull(d.comment()), now(), via, pending.evidenceDigest());
    decisions.put(d.gate(), decision);
    log.info("gate {} {} by {} via {}", d.gate(), d.verdict(), d.approver(), via);
    return decision;
  }

  /** A signal cannot be refused to its sender: a refused one is logged and kept in status. */
  void acceptSignal(GateDecision d) {
    try {
      accept(d, Decision.VIA_SIGNAL);
    } catch (GateDecisionRefused e) {
      log.warn("refused a decision signal: {}", e.getMessage());
      if (refused.size() == MAX_REFUSED_KEPT) {
        refused.remove(0);
      }
      refused.add(
          new RefusedDecision(
              d == null ? null : d.gate(), d == null ? null : d.approver(), e.getMessage(), now()));
    }
  }

  PendingGate pending() {
    return pending;
  }

  List<Decision> decisions() {
    return List.copyOf(decisions.values());
  }

  List<RefusedDecision> refused() {
    return List.copyOf(refused);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }

  private static String shortDigest(String digest) {
    return digest.length() > 12 ? digest.substring(0, 12) : digest;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static String blankToNull(String s) {
    return blank(s) ? null : s.trim();
  }

  static String format(Duration d) {
    if (d.toDaysPart() > 0 && d.toHoursPart() == 0 && d.toMinutesPart() == 0) {
      return d.toDays() + "d";
    }
    if (d.toMinutesPart() == 0 && d.toSecondsPart() == 0) {
      return d.toHours() + "h";
    }
    return d.toString().substring(2).toLowerCase();
  }
}

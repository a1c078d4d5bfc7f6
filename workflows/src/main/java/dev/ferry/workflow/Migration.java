package dev.ferry.workflow;

import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.NotifyActivities;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ByteSize;
import dev.ferry.model.Decision;
import dev.ferry.model.Errors;
import dev.ferry.model.Evidence;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.Notification;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.FreezeResult;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.options.ActivityCatalog;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * One run's state and the moves both strategies share: running a step and recording it,
 * registering its compensation, opening a gate with its evidence, freezing and verifying. The
 * strategies ({@link SinglePhase}, {@link MultiPhase}) say in which order.
 */
final class Migration {
  private static final Logger log = Workflow.getLogger(Migration.class);

  final MigrationRequest request;
  final Runbook runbook;
  final DatabasePair databases;
  final Integer jobs;
  final Tuning tuning;
  final RunRecord record;
  final GateKeeper gates;
  final Compensations compensations = new Compensations();
  final Instant startedAt;
  /**
   * Whether this run streams its copy ({@link StreamCopy}): the runbook's method, for runs begun
   * after {@link StreamCopy#VERSION}; runs begun before keep pg_dump and pg_restore.
   */
  final boolean streamCopy;

  final PreflightActivities preflight;
  final SnapshotActivities snapshots;
  final VerifyActivities verify;
  final FreezeActivities freeze;
  final SequenceActivities sequences;
  final SyncActivities syncSetup;
  final SyncActivities syncApply;
  final SyncActivities syncControl;
  private final NotifyActivities notify;
  private final LedgerActivities ledger;
  /** Whether this run writes its events to the ledger (runs begun before that, replayed, do not). */
  private final boolean ledgerEvents;
  private final List<Promise<Void>> eventsInFlight = new ArrayList<>();
  private long eventSeq;

  PreflightReport preflightReport;
  Snapshot snapshot;
  RestoreResult restoreResult;
  VerificationReport verification;
  SyncSetup sync;
  SyncLag lag;
  /** When the target first took writes (or may have): after it, undoing needs a person. */
  Instant pointOfNoReturn;
  String pointOfNoReturnReason;

  Migration(MigrationRequest request, Tuning tuning, ApprovalKeys keys) {
    this.request = request;
    this.runbook = request.runbook();
    this.tuning = tuning;
    this.databases = new DatabasePair(runbook.source().databaseUrl(), runbook.target().databaseUrl());
    this.jobs = runbook.snapshot() == null ? null : runbook.snapshot().jobs();
    // Asked before anything else runs, so the steps shown from the start are the ones the run takes.
    this.streamCopy =
        Workflow.getVersion(StreamCopy.VERSION, Workflow.DEFAULT_VERSION, 1) == 1 && StreamCopy.applies(runbook);
    this.record = new RunRecord(Steps.of(runbook, streamCopy));
    this.gates = new GateKeeper(runbook, request.startedBy(), keys);
    this.startedAt = now();
    preflight = stub(PreflightActivities.class, ActivityCatalog.preflight());
    snapshots = stub(SnapshotActivities.class, ActivityCatalog.snapshot());
    verify = stub(VerifyActivities.class, ActivityCatalog.verify());
    freeze = stub(FreezeActivities.class, ActivityCatalog.sourceChanges());
    sequences = stub(SequenceActivities.class, ActivityCatalog.sourceChanges());
    syncSetup = stub(SyncActivities.class, ActivityCatalog.syncSetup());
    syncApply = stub(SyncActivities.class, ActivityCatalog.syncApply());
    syncControl = stub(SyncActivities.class, ActivityCatalog.syncControl());
    notify = stub(NotifyActivities.class, ActivityCatalog.notification());
    ledger = stub(LedgerActivities.class, ActivityCatalog.ledger());
    // Added after runs without ledger events existed: those replay without them.
    ledgerEvents = Workflow.getVersion(LEDGER_EVENTS, Workflow.DEFAULT_VERSION, 1) == 1;
  }

  static final String LEDGER_EVENTS = "ledger-events";

  /**
   * Writes an event to the run ledger, without waiting: a ledger outage never holds a step up.
   * {@link #flushEvents} waits for them before the run ends.
   */
  void event(RunEventType type, String step, String actor, String detail, String evidenceDigest) {
    if (!ledgerEvents) {
      return;
    }
    RunEvent e =
        new RunEvent(
            runId(), ++eventSeq, now(), type, RunKind.MIGRATION, runbook.app(), record.state(), step, actor, detail,
            evidenceDigest);
    // Outside the run's cancellation: a cancelled run's last steps belong in the ledger too.
    Workflow.newDetachedCancellationScope(() -> eventsInFlight.add(Async.procedure(ledger::recordRunEvent, e))).run();
  }

  /**
   * Waits (a minute at most) for the events on their way: an ended run abandons its activities.
   * The timer is started whether or not they are done, so the commands do not depend on how
   * fast the ledger answered (a conditional wait would not replay). A failed event is waited
   * for, not raised: the ledger is a record, and the run's own outcome stands.
   */
  void flushEvents() {
    if (!ledgerEvents) {
      return;
    }
    List<Promise<Void>> settled = eventsInFlight.stream().map(p -> p.handle((ok, failure) -> (Void) null)).toList();
    Promise.anyOf(Promise.allOf(settled), Workflow.newTimer(Duration.ofMinutes(1))).get();
  }

  /** An activity stub, with this deployment's heartbeat timeout where the options have one. */
  <T> T stub(Class<T> type, ActivityOptions options) {
    if (options.getHeartbeatTimeout() != null) {
      options = ActivityOptions.newBuilder(options).setHeartbeatTimeout(tuning.heartbeatTimeout()).build();
    }
    return Workflow.newActivityStub(type, options);
  }

  /** Runs a step and records its start, end and outcome. */
  <T> T step(String name, Supplier<T> body, Function<T, String> describe) {
    record.begin(name, now());
    event(RunEventType.STEP_STARTED, name, null, null, null);
    try {
      T result = body.get();
      String detail = describe.apply(result);
      record.done(name, now(), detail);
      event(RunEventType.STEP_FINISHED, name, null, "done: " + detail, null);
      return result;
    } catch (TemporalFailure e) {
      record.failed(name, now(), Failures.describe(e));
      event(RunEventType.STEP_FINISHED, name, null, "failed: " + Failures.describe(e), null);
      throw e;
    }
  }

  /** Skips a step the runbook does not configure, or the plan leaves out. */
  void skip(String name, String reason) {
    record.skip(name, reason);
    event(RunEventType.STEP_FINISHED, name, null, "skipped: " + reason, null);
  }

  /** Opens a gate with its evidence; true when approved. Sends a reminder when one is due. */
  boolean gate(String name, List<String> evidence) {
    return gate(name, evidence, false, () -> null);
  }

  /**
   * Opens a gate; with {@code budgeted}, the gate before the write downtime of a runbook with a
   * {@code rehearsals} section, it also shows and enforces the cutover budget ({@link
   * CutoverBudget}).
   */
  boolean gate(String name, List<String> evidence, boolean budgeted) {
    return gate(name, evidence, budgeted, () -> null);
  }

  /**
   * {@link #gate(String, List, boolean)}, closed early when {@code closeBecause} gives a reason
   * (the run cannot go on): the gate step fails with that reason and the failure is thrown, so
   * what ran is undone.
   */
  boolean gate(String name, List<String> evidence, boolean budgeted, Supplier<TemporalFailure> closeBecause) {
    String step = Steps.gate(name);
    // Only runbooks with a rehearsals section (which runs begun before it cannot have) get here.
    boolean budget =
        budgeted
            && runbook.rehearsals() != null
            && Workflow.getVersion(CutoverBudget.VERSION, Workflow.DEFAULT_VERSION, 1) == 1;
    record.begin(step, now());
    record.awaiting(name);
    Runnable remind =
        () -> {
          record.note("reminder: gate " + name + " is still waiting for a decision");
          tell("gate-reminder", "run " + runId() + " (" + runbook.app() + ") still waits at gate " + name
              + "; it rejects on its own at its deadline");
        };
    Decision decision;
    if (budget) {
      CutoverBudget.Verdict first = CutoverBudget.check(this);
      List<String> shown = new ArrayList<>(evidence);
      shown.addAll(first.evidence());
      event(RunEventType.GATE_OPENED, step, null, String.join(" | ", shown), Evidence.digest(shown));
      tell("gate-opened", "run " + runId() + " (" + runbook.app() + ") waits at gate " + name + " for an approval");
      CutoverBudget.Verdict[] next = {first};
      decision =
          gates.awaitWithBudget(
              name,
              evidence,
              remind,
              () -> {
                CutoverBudget.Verdict v = next[0] != null ? next[0] : CutoverBudget.check(this);
                next[0] = null;
                return v;
              },
              () -> closeBecause.get() != null);
      boolean overridden =
          decision != null
              && decision.verdict() == Verdict.APPROVE && CutoverBudget.isOverride(decision.comment())
              && decision.via() != null && !Decision.VIA_DEADLINE.equals(decision.via());
      if (overridden) {
        String why = "cutover budget overridden at gate " + name + " by " + decision.decidedBy() + ": " + decision.comment();
        record.note(why);
        event(RunEventType.NOTE, step, decision.decidedBy(), why, decision.evidenceDigest());
      }
    } else {
      event(RunEventType.GATE_OPENED, step, null, String.join(" | ", evidence), Evidence.digest(evidence));
      tell("gate-opened", "run " + runId() + " (" + runbook.app() + ") waits at gate " + name + " for an approval");
      decision = gates.await(name, evidence, remind, () -> closeBecause.get() != null);
    }
    record.resumed();
    if (decision == null) {
      TemporalFailure reason = closeBecause.get();
      record.failed(step, now(), "closed without a decision: " + Failures.describe(reason));
      event(RunEventType.STEP_FINISHED, step, null, "closed without a decision: " + Failures.describe(reason), null);
      throw reason;
    }
    event(
        RunEventType.DECISION, step, decision.decidedBy(), decision.verdict() + " via " + decision.via()
            + (decision.comment() == null ? "" : ": " + decision.comment()), decision.evidenceDigest());
    String detail =
        (decision.verdict() == Verdict.APPROVE ? "approved by " : "rejected by ")
            + decision.decidedBy()
            + (decision.comment() == null ? "" : ": " + decision.comment());
    if (decision.verdict() == Verdict.APPROVE) {
      record.done(step, now(), detail);
      return true;
    }
    record.failed(step, now(), detail);
    return false;
  }

  /** The run ends here because a gate rejected it: the caller's catch undoes what ran. */
  ApplicationFailure rejected(String gate) {
    return ApplicationFailure.newNonRetryableFailure("the run was rejected at gate " + gate, Errors.REJECTED);
  }

  /** Tells the runbook's webhook, when it has one. Best effort: a dead webhook stops nothing. */
  void tell(String event, String text) {
    if (runbook.notifications() == null) {
      return;
    }
    try {
      notify.send(new Notification(runbook.notifications().webhook(), runId(), runbook.app(), event, text));
    } catch (TemporalFailure e) {
      record.note("could not notify (" + event + "): " + Failures.describe(e));
    }
  }

  // ---- steps both strategies take -------------------------------------------------------------

  void preflight() {
    preflight(report -> report);
  }

  /**
   * Preflight, then {@code strategyCheck} inside the same step: it may fail the step for good
   * (before anything changes), such as when the runbook's sync method would refuse the source,
   * or return the report with what else the approver should know.
   */
  void preflight(java.util.function.UnaryOperator<PreflightReport> strategyCheck) {
    preflightReport =
        step(Steps.PREFLIGHT, () -> strategyCheck.apply(preflight.auditDatabases(databases)), Migration::describe);
  }

  void approveStart() {
    List<String> evidence = new ArrayList<>();
    evidence.add(
        "plan: "
            + String.join(" → ", Plans.of(runbook, streamCopy).stream().filter(p -> !p.skipped()).map(PlannedStep::name).toList()));
    evidence.add("source: " + describe(preflightReport.source()));
    evidence.add("target: " + describe(preflightReport.target()));
    evidence.add("pg_dump: " + preflightReport.dumpToolVersion());
    preflightReport.warnings().forEach(w -> evidence.add("warning: " + w));
    // In single-phase the write downtime begins right after the start gate: the budget is checked there.
    if (!gate(Gates.START, evidence, runbook.strategy() == dev.ferry.model.runbook.Strategy.SINGLE_PHASE)) {
      throw rejected(Gates.START);
    }
  }

  static final String WRITE_FENCE = "write-fence";

  /** Freezes the source; its compensation (unfreezing) is registered first. */
  void freezeSource() {
    // Since the write fence: a source read-only before the run still gets the run's fence, which
    // its undo must lift (leaving the setting as it was). Runs frozen before it have no fence.
    boolean fenced = Workflow.getVersion(WRITE_FENCE, Workflow.DEFAULT_VERSION, 1) == 1;
    compensations.register(
        Steps.FREEZE_SOURCE,
        key -> {
          if (preflightReport.source().readOnly()) {
            if (!fenced) {
              return "nothing: the source was read-only before the run and stays so";
            }
            freeze.liftFence(databases.sourceUrlRef());
            return "the run's write fence is lifted; the source stays read-only, as it was before the run";
          }
          freeze.unfreezeSource(databases.sourceUrlRef());
          return "the source takes writes again";
        });
    step(Steps.FREEZE_SOURCE, () -> freeze.freezeSource(databases.sourceUrlRef()), Migration::describe);
  }

  void verify(String stepName) {
    verify(stepName, () -> verify.verifyDatabases(new VerifyRequest(databases, jobs)));
  }

  /** A verification step whose report comes from {@code report}; any mismatch fails the run. */
  void verify(String stepName, Supplier<VerificationReport> report) {
    verification = step(stepName, report, VerificationReport::summary);
    if (verification.mismatches() > 0) {
      record.failed(stepName, now(), verification.summary());
      throw ApplicationFailure.newNonRetryableFailure(
          "verification failed: " + verification.summary(), Errors.VERIFICATION_FAILED);
    }
  }

  void syncSequences() {
    step(Steps.SYNC_SEQUENCES, () -> sequences.syncSequences(databases), Migration::describe);
  }

  /**
   * The last gate: the migration is final. Its evidence says what approving and rejecting do;
   * a rejection goes through the rollback gate when the target may have taken writes.
   */
  boolean approveDecommission(List<String> whatDecommissionDoes) {
    if (pointOfNoReturn == null) {
      // Ferry did not move the traffic: whoever did may have pointed the app at the target.
      markPointOfNoReturn("the app may have been pointed at the target outside Ferry");
    }
    List<String> evidence = new ArrayList<>();
    if (verification != null) {
      evidence.add("last verification: " + verification.summary());
    }
    evidence.add("the target may have taken writes since " + pointOfNoReturn + " (" + pointOfNoReturnReason + ")");
    whatDecommissionDoes.forEach(w -> evidence.add("approve: " + w));
    evidence.add("reject: undo " + String.join(", ", compensations.steps()) + " (newest first), after a rollback gate");
    return gate(Gates.DECOMMISSION, evidence);
  }

  void markPointOfNoReturn(String reason) {
    if (pointOfNoReturn == null) {
      pointOfNoReturn = now();
      pointOfNoReturnReason = reason;
      record.note("point of no return at " + pointOfNoReturn + ": " + reason);
    }
  }

  /**
   * After a failure, rejection or cancellation: undo what ran, newest first. Past the point of
   * no return a person decides at the rollback gate, shown what would be lost; without an
   * approval nothing is undone and the world is left for people to finish by hand.
   */
  void rollBack(String why) {
    if (compensations.isEmpty()) {
      return;
    }
    if (pointOfNoReturn != null) {
      List<String> evidence = new ArrayList<>();
      evidence.add("why: " + why);
      evidence.add("the target may have taken writes since " + pointOfNoReturn + " (" + pointOfNoReturnReason + ")");
      evidence.add("rolling back loses those writes: nothing copies them back to the source");
      evidence.add("approve: undo " + String.join(", ", compensations.steps()) + " (newest first)");
      evidence.add("reject: undo nothing; the run ends and people finish by hand");
      record.add(Steps.GATE_ROLLBACK);
      if (!gate(Gates.ROLLBACK, evidence)) {
        record.note("rollback rejected: nothing was undone (" + String.join(", ", compensations.steps()) + " stay as they are)");
        return;
      }
    }
    compensations.runAll(record, (step, detail) -> event(RunEventType.COMPENSATION, step, null, detail, null));
  }

  // ---- status ---------------------------------------------------------------------------------

  RunStatus status(RunState stateOverride) {
    return new RunStatus(
        runId(),
        runbook.app(),
        runbook.strategy().label(),
        stateOverride != null ? stateOverride : record.state(),
        record.phase(),
        request.startedBy(),
        startedAt,
        record.endedAt(),
        record.steps(),
        gates.pending(),
        gates.decisions(),
        gates.refused(),
        preflightReport,
        snapshot,
        restoreResult,
        verification,
        record.notes(),
        record.failure(),
        sync,
        lag,
        pointOfNoReturn,
        compensations.steps());
  }

  String runId() {
    return Workflow.getInfo().getWorkflowId();
  }

  static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }

  // ---- descriptions ---------------------------------------------------------------------------

  static String describe(PreflightReport report) {
    return "source "
        + describe(report.source())
        + "; target "
        + describe(report.target())
        + (report.warnings().isEmpty() ? "" : "; " + report.warnings().size() + " warning(s)");
  }

  static String describe(DatabaseFacts facts) {
    return facts.endpoint()
        + " (PostgreSQL "
        + facts.serverVersion()
        + ", "
        + ByteSize.format(facts.sizeBytes())
        + ", "
        + facts.tables()
        + " tables)";
  }

  static String describe(FreezeResult result) {
    if (result.fence() == null) {
      // A run frozen before the write fence (its recorded result has none).
      return "source read-only; " + result.sessionsEnded() + " open session(s) ended"
          + (result.sessionsLeft().isEmpty() ? ""
              : "; " + result.sessionsLeft().size() + " session(s) of other roles could not be ended and may"
                  + " still write until they reconnect: " + String.join(", ", result.sessionsLeft()));
    }
    return "source read-only; " + result.fence() + "; " + result.sessionsEnded() + " open session(s) ended"
        + (result.sessionsLeft().isEmpty() ? ""
            : "; " + result.sessionsLeft().size() + " session(s) of other roles could not be ended (the fence refuses"
                + " their writes): " + String.join(", ", result.sessionsLeft()));
  }

  static String describe(SequenceSync sync) {
    return sync.set() + " set, " + sync.alreadyCurrent() + " already current"
        + (sync.aheadOnTarget().isEmpty() ? "" : "; ahead on the target, left: " + String.join(", ", sync.aheadOnTarget()));
  }

  static String describe(SyncLag lag) {
    return (lag.pendingChanges() >= 0 ? lag.pendingChanges() + " change(s) pending, " : "")
        + (lag.lagBytes() >= 0 ? ByteSize.format(lag.lagBytes()) + " behind, " : "")
        // The logical method cannot always tell the age (no WAL sender connected): it says so
        // with Long.MAX_VALUE, which never passes a threshold.
        + (lag.lagMillis() == Long.MAX_VALUE ? "age of the oldest unknown" : "oldest " + (lag.lagMillis() / 1000.0) + " s old");
  }
}

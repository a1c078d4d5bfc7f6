package dev.ferry.workflow;

import dev.ferry.activity.SyncActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.runbook.SnapshotSpec;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.Drained;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The multi-phase strategy (large database, near-zero downtime): preflight → gate {@code start}
 * → start the sync (change capture, then the initial copy: streamed for the trigger method,
 * {@link StreamCopy}, unless {@code snapshot.method: dump}) → catch up until the lag is under the
 * runbook's threshold → pre-verify (the target proven while the sync runs; {@link
 * Preverification}) → lower the DNS TTL → gate {@code cutover} → freeze the source (+ Heroku
 * maintenance) → config vars to SSM → drain → sync sequences → final verify → RDS restore point
 * → shift traffic → maintenance off → fallback window → gate {@code decommission} →
 * decommission (tear the sync down, scale Heroku down). Steps whose provider the runbook does not
 * configure are skipped.
 */
final class MultiPhase {
  private final Migration m;
  private final SyncRequest sync;
  /** Whether the run checks its sync method in preflight and gives its logical subscription a role of its own. */
  private final boolean checksSync;
  private CancellationScope applying;
  private Promise<Void> applied;

  MultiPhase(Migration m) {
    this.m = m;
    // Added with per-run replication roles and the sync's own preflight check: runs begun before
    // replay without the check, and their logical subscription keeps the source credential it
    // was created with (a null replicationRole tells the activities so).
    this.checksSync = Workflow.getVersion(SYNC_CHECK_AND_ROLE, Workflow.DEFAULT_VERSION, 1) == 1;
    SyncSpec spec = m.runbook.sync();
    this.sync =
        new SyncRequest(
            Workflow.randomUUID().toString(), m.databases, spec.method(), m.jobs, checksSync ? replicationRole(spec) : null,
            m.streamCopy ? SnapshotSpec.STREAM : null);
  }

  void run() {
    SyncSpec spec = m.runbook.sync();
    CutoverEdge edge = new CutoverEdge(m);
    // Added with the sync itself: runs begun before replay their preflight without the refusal.
    boolean refuses = Workflow.getVersion(PREFLIGHT_REFUSES, Workflow.DEFAULT_VERSION, 1) == 1;
    m.preflight(
        report -> {
          if (checksSync) {
            return checkSync(report);
          }
          String refused = refuses ? refusal(spec, report.audit()) : null;
          if (refused != null) {
            throw ApplicationFailure.newNonRetryableFailure(refused, Errors.SYNC_REFUSED);
          }
          return report;
        });
    m.approveStart();

    m.compensations.register(
        Steps.START_SYNC,
        key -> {
          stopApplying();
          m.syncControl.stopSync(sync);
          return "sync torn down: no trigger, change table, publication, subscription or slot left";
        });
    if (m.streamCopy) {
      // The capture first, committed; then the copy, from a snapshot taken after it.
      m.sync = m.step(Steps.START_SYNC, () -> m.syncSetup.startSync(sync), SyncSetup::detail);
      StreamCopy copy = new StreamCopy(m, CopyRequest.CAPTURED);
      List<SyncSetup> adopted = new ArrayList<>();
      // Within the copy's step: the capture keeps only what each table's copy did not see.
      copy.copy(copied -> adopted.add(m.syncSetup.adoptCopy(sync, copy.key())));
      m.sync = adopted.get(0);
      copy.end();
    } else {
      m.sync = m.step(Steps.START_SYNC, () -> m.syncSetup.startSync(sync), s -> s.tables() + " tables, " + s.rows() + " rows copied; " + s.detail());
    }
    // Added with the loop queue: runs begun before keep their loops on the workflow's queue.
    String loopQueue =
        Workflow.getVersion(LOOP_QUEUE, Workflow.DEFAULT_VERSION, 1) == 1
            ? ActivityCatalog.loopQueue(Workflow.getInfo().getTaskQueue())
            : null;
    startApplying(loopQueue);
    // Verification while the sync runs (versioned inside: older runs verify all at the freeze).
    Preverification pre = Preverification.of(m, sync, loopQueue);
    if (pre != null) {
      pre.start();
    }

    m.step(Steps.CATCH_UP, () -> catchUp(spec), Migration::describe);
    if (pre != null) {
      m.step(Steps.PREVERIFY, () -> pre.awaitFirstPass(spec, this::applyStopped), PreverifyCoverage::summary);
    }
    edge.lowerDnsTtl();
    // Added with the sync itself: older runs waited at this gate without watching the apply.
    boolean watchApply = Workflow.getVersion(GATE_WATCHES_APPLY, Workflow.DEFAULT_VERSION, 1) == 1;
    List<String> evidence = cutoverEvidence(spec);
    if (pre != null) {
      evidence.addAll(pre.evidence());
    }
    if (!m.gate(Gates.CUTOVER, evidence, true, () -> watchApply ? syncStopped(pre) : null)) {
      throw m.rejected(Gates.CUTOVER);
    }
    if (pre != null) {
      // Both background activities stop before the freeze, not after: a cancel reaches an
      // activity with its next heartbeat (up to a second), which must not count in the write
      // downtime; what the source commits meanwhile, the drain applies. The pre-verification's
      // sessions must not outlive the freeze either (it ends every session but the sync's).
      pre.requestStop();
      stopApplying();
      pre.stop();
    }

    m.freezeSource();
    edge.maintenanceOn();
    edge.copyConfigVars();
    // Since drain-syncs-sequences, the drain sets the sequences on its own sessions at its end:
    // an activity, a workflow task and two new sessions fewer while the app cannot write.
    if (Workflow.getVersion(DRAIN_SYNCS_SEQUENCES, Workflow.DEFAULT_VERSION, 1) == 1) {
      Drained drained =
          m.step(
              Steps.DRAIN,
              () -> {
                stopApplying();
                return m.syncControl.drainWithSequences(sync);
              },
              d -> "nothing pending: " + Migration.describe(d.lag()));
      m.lag = drained.lag();
      m.step(Steps.SYNC_SEQUENCES, drained::sequences, seq -> Migration.describe(seq) + " (at the end of the drain)");
    } else {
      m.lag =
          m.step(
              Steps.DRAIN,
              () -> {
                stopApplying();
                return m.syncControl.drain(sync);
              },
              lag -> "nothing pending: " + Migration.describe(lag));
      m.syncSequences();
    }
    if (pre != null) {
      pre.verifyAtTheFreeze(Steps.VERIFY);
    } else {
      m.verify(Steps.VERIFY);
    }
    edge.restorePoint();
    edge.shiftTraffic();
    edge.maintenanceOff();

    Duration window = m.runbook.fallbackWindow();
    m.step(
        Steps.FALLBACK_WINDOW,
        () -> {
          Workflow.sleep(window);
          return window;
        },
        w -> "waited " + GateKeeper.format(w) + " with the way back open");
    List<String> plan = new ArrayList<>(List.of("the sync is torn down and the migration is final; the source stays read-only"));
    plan.addAll(edge.decommissionPlan());
    if (!m.approveDecommission(plan)) {
      throw m.rejected(Gates.DECOMMISSION);
    }
    m.compensations.discharge(Steps.START_SYNC);
    m.compensations.discharge(Steps.FREEZE_SOURCE);
    m.compensations.discharge(Steps.PREVERIFY);
    m.step(
        Steps.DECOMMISSION,
        () -> {
          List<String> done = new ArrayList<>();
          if (pre != null) {
            done.add(pre.drop());
          }
          m.syncControl.stopSync(sync);
          done.add("sync torn down");
          done.addAll(edge.decommission());
          return String.join("; ", done);
        },
        s -> s);
  }

  static final String GATE_WATCHES_APPLY = "cutover-gate-watches-apply";
  /** The apply loop and the pre-verification on their own queue ({@link ActivityCatalog#loopQueue}). */
  static final String LOOP_QUEUE = "loop-queue";
  /** The drain sets the sequences itself; before, they were a step with an activity of its own. */
  static final String DRAIN_SYNCS_SEQUENCES = "drain-syncs-sequences";
  static final String PREFLIGHT_REFUSES = "preflight-refuses-for-sync";
  static final String SYNC_CHECK_AND_ROLE = "sync-check-and-replication-role";

  /**
   * The sync method's own check, in the preflight step: everything it would refuse, all at once,
   * fails the run before the start gate; its warnings join the report's, so the approver sees
   * them.
   */
  private PreflightReport checkSync(PreflightReport report) {
    SyncCheck check = m.syncControl.checkSync(sync);
    if (!check.refusals().isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "sync.method " + sync.method() + " cannot run here: " + String.join("; ", check.refusals()), Errors.SYNC_REFUSED);
    }
    if (check.warnings().isEmpty()) {
      return report;
    }
    List<String> warnings = new ArrayList<>(report.warnings());
    warnings.addAll(check.warnings());
    return new PreflightReport(report.source(), report.target(), report.dumpToolVersion(), report.audit(), warnings);
  }

  /** The logical method's login: the runbook's choice, per-run when it says nothing (a run started without the parser). */
  private static String replicationRole(SyncSpec spec) {
    if (!SyncSpec.LOGICAL.equals(spec.method())) {
      return null;
    }
    return spec.replicationRole() == null ? SyncSpec.PER_RUN_ROLE : spec.replicationRole();
  }

  /**
   * Why the background apply failed, when it did: it retries without limit, so it fails only for
   * good reasons (the schema changed, the capture was dropped). {@code null} while it runs.
   */
  private TemporalFailure applyStopped() {
    if (applied == null || !applied.isCompleted() || !(applied.getFailure() instanceof TemporalFailure failure)) {
      return null;
    }
    // The apply's own reason (SchemaChanged, …) names the run's failure when it has one.
    String type = Errors.SYNC_BEHIND;
    if (failure.getCause() instanceof ApplicationFailure cause && cause.getType() != null) {
      type = cause.getType();
    }
    return ApplicationFailure.newNonRetryableFailureWithCause(
        "applying changes stopped: " + Failures.describe(failure), type, failure);
  }

  /** Why the apply or the pre-verification stopped, when one did; {@code null} while both run. */
  private TemporalFailure syncStopped(Preverification pre) {
    TemporalFailure apply = applyStopped();
    return apply != null || pre == null ? apply : pre.failure();
  }

  /**
   * Applies changes in the background until drain (or a rollback) stops it, on {@code loopQueue}
   * (or the workflow's queue when {@code null}).
   */
  private void startApplying(String loopQueue) {
    SyncActivities apply = loopQueue == null ? m.syncApply : m.stub(SyncActivities.class, ActivityCatalog.syncApply(loopQueue));
    applying = Workflow.newCancellationScope(() -> {
      applied = Async.procedure(apply::applyChanges, sync);
    });
    applying.run();
  }

  private void stopApplying() {
    if (applying == null) {
      return;
    }
    applying.cancel();
    try {
      applied.get();
    } catch (TemporalFailure stopped) {
      // Cancelled, as asked; or it had failed before, which drain makes up for.
    }
    applying = null;
  }

  /** Measures the lag until it is under the threshold, or fails at the catch-up timeout. */
  private SyncLag catchUp(SyncSpec spec) {
    long deadline = Workflow.currentTimeMillis() + spec.catchUpTimeout().toMillis();
    while (true) {
      m.lag = m.syncControl.measureLag(sync);
      if (m.lag.lagMillis() <= spec.maxLag().toMillis()) {
        return m.lag;
      }
      TemporalFailure stopped = applyStopped();
      if (stopped != null) {
        throw stopped;
      }
      if (Workflow.currentTimeMillis() >= deadline) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the target is still " + Migration.describe(m.lag) + " after " + GateKeeper.format(spec.catchUpTimeout())
                + "; the runbook's sync.maxLag is " + GateKeeper.format(spec.maxLag()),
            Errors.SYNC_BEHIND);
      }
      Workflow.sleep(m.tuning.lagPoll());
    }
  }

  /**
   * Why the source cannot be kept in sync by the runbook's method, or {@code null}: from the
   * audit alone, as runs begun before {@link #SYNC_CHECK_AND_ROLE} decided it (they replay it).
   */
  static String refusal(SyncSpec spec, SourceAudit audit) {
    if (audit == null) {
      return null;
    }
    if (SyncSpec.TRIGGER.equals(spec.method()) && !audit.tablesWithoutPrimaryKey().isEmpty()) {
      return "sync.method trigger needs a primary key on every table; these have none: "
          + String.join(", ", audit.tablesWithoutPrimaryKey())
          + ". Add one, or migrate with strategy single-phase.";
    }
    if (SyncSpec.LOGICAL.equals(spec.method())) {
      if (audit.logicalReplication() != null && !audit.logicalReplication().possible()) {
        return "sync.method logical: the source cannot publish (" + audit.logicalReplication().reason()
            + "); Heroku grants no replication privilege, use sync.method trigger";
      }
      if (!audit.tablesWithoutReplicaIdentity().isEmpty()) {
        return "sync.method logical: updates and deletes of tables without a primary key or replica identity"
            + " cannot be published: " + String.join(", ", audit.tablesWithoutReplicaIdentity());
      }
    }
    return null;
  }

  private List<String> cutoverEvidence(SyncSpec spec) {
    List<String> evidence = new ArrayList<>();
    evidence.add("sync (" + spec.method() + "): " + m.sync.tables() + " tables, " + m.sync.rows() + " rows copied");
    evidence.add("lag when the gate opened: " + Migration.describe(m.lag) + " (threshold " + GateKeeper.format(spec.maxLag()) + ")");
    evidence.add("approve: freeze the source (writes stop), drain, sync sequences, verify");
    evidence.add("reject: tear the sync down; the source was never frozen");
    return evidence;
  }
}

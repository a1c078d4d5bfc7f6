package dev.ferry.workflow;

import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.runbook.SnapshotSpec;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
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
 * runbook's threshold → lower the DNS TTL → gate {@code cutover} → freeze the source (+ Heroku
 * maintenance) → config vars to SSM → drain → sync sequences → final verify → RDS restore point
 * → shift traffic → maintenance off → fallback window → gate {@code decommission} →
 * decommission (tear the sync down, scale Heroku down). Steps whose provider the runbook does not
 * configure are skipped.
 */
final class MultiPhase {
  private final Migration m;
  private final SyncRequest sync;
  private CancellationScope applying;
  private Promise<Void> applied;

  MultiPhase(Migration m) {
    this.m = m;
    this.sync =
        new SyncRequest(
            Workflow.randomUUID().toString(), m.databases, m.runbook.sync().method(), m.jobs,
            m.streamCopy ? SnapshotSpec.STREAM : null);
  }

  void run() {
    SyncSpec spec = m.runbook.sync();
    CutoverEdge edge = new CutoverEdge(m);
    // Added with the sync itself: runs begun before replay their preflight without the refusal.
    boolean refuses = Workflow.getVersion(PREFLIGHT_REFUSES, Workflow.DEFAULT_VERSION, 1) == 1;
    m.preflight(report -> refuses ? refusal(spec, report.audit()) : null);
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
    startApplying();

    m.step(Steps.CATCH_UP, () -> catchUp(spec), Migration::describe);
    edge.lowerDnsTtl();
    // Added with the sync itself: older runs waited at this gate without watching the apply.
    boolean watchApply = Workflow.getVersion(GATE_WATCHES_APPLY, Workflow.DEFAULT_VERSION, 1) == 1;
    if (!m.gate(Gates.CUTOVER, cutoverEvidence(spec), true, () -> watchApply ? applyStopped() : null)) {
      throw m.rejected(Gates.CUTOVER);
    }

    m.freezeSource();
    edge.maintenanceOn();
    edge.copyConfigVars();
    m.lag =
        m.step(
            Steps.DRAIN,
            () -> {
              stopApplying();
              return m.syncControl.drain(sync);
            },
            lag -> "nothing pending: " + Migration.describe(lag));
    m.syncSequences();
    m.verify(Steps.VERIFY);
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
    m.step(
        Steps.DECOMMISSION,
        () -> {
          m.syncControl.stopSync(sync);
          List<String> done = new ArrayList<>(List.of("sync torn down"));
          done.addAll(edge.decommission());
          return String.join("; ", done);
        },
        s -> s);
  }

  static final String GATE_WATCHES_APPLY = "cutover-gate-watches-apply";
  static final String PREFLIGHT_REFUSES = "preflight-refuses-for-sync";

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

  /** Applies changes in the background until drain (or a rollback) stops it. */
  private void startApplying() {
    applying = Workflow.newCancellationScope(() -> {
      applied = Async.procedure(m.syncApply::applyChanges, sync);
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

  /** Why the source cannot be kept in sync by the runbook's method, or {@code null}. */
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

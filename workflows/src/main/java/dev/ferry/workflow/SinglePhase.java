package dev.ferry.workflow;

import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.model.ByteSize;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.runbook.Gates;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Workflow;
import java.util.List;

/**
 * The single-phase strategy (small database, downtime accepted): preflight → gate {@code start}
 * → lower the DNS TTL → freeze the source (+ Heroku maintenance) → config vars to SSM → copy
 * (streamed, {@link StreamCopy}) and verify, or with {@code snapshot.method: dump} snapshot →
 * restore → verify → discard the snapshot; then sync sequences → RDS restore point → shift
 * traffic → maintenance off → gate {@code decommission} → decommission. Steps whose provider the
 * runbook does not configure are skipped. The source stays read-only to the end: only a
 * rollback makes it writable again.
 */
final class SinglePhase {
  /** Snapshots taken again when the host holding one stops serving its task queue. */
  static final int MAX_SNAPSHOT_ATTEMPTS = 3;

  private final Migration m;

  SinglePhase(Migration m) {
    this.m = m;
  }

  void run() {
    CutoverEdge edge = new CutoverEdge(m);
    m.preflight();
    m.approveStart();
    edge.lowerDnsTtl();
    // From here on the app cannot write to the source: the snapshot is the whole truth.
    m.freezeSource();
    edge.maintenanceOn();
    edge.copyConfigVars();
    if (m.streamCopy) {
      StreamCopy copy = new StreamCopy(m, CopyRequest.FROZEN);
      m.restoreResult = StreamCopy.asRestore(copy.copy(copied -> {}));
      copy.verify();
      copy.end();
      m.syncSequences();
    } else {
      m.restoreResult = snapshotAndRestore();
      m.verify(Steps.VERIFY);
      m.syncSequences();
      discardSnapshot();
    }
    edge.restorePoint();
    edge.shiftTraffic();
    edge.maintenanceOff();
    List<String> plan = new java.util.ArrayList<>(List.of("the migration is final; the source stays read-only"));
    plan.addAll(edge.decommissionPlan());
    if (!m.approveDecommission(plan)) {
      throw m.rejected(Gates.DECOMMISSION);
    }
    String skip = Steps.skipReason(m.runbook, Steps.DECOMMISSION);
    if (skip != null) {
      m.skip(Steps.DECOMMISSION, skip);
    } else {
      m.step(Steps.DECOMMISSION, () -> String.join("; ", edge.decommission()), s -> s);
    }
    m.compensations.discharge(Steps.FREEZE_SOURCE);
  }

  /**
   * Dumps the source and restores it into the target. The dump lives on one worker host; if
   * that host stops serving its task queue before the restore starts, or no longer has the
   * files, take a new snapshot on a host that works.
   */
  private RestoreResult snapshotAndRestore() {
    for (int attempt = 1; ; attempt++) {
      // Registered before the dump: a dump that dies halfway leaves files too.
      m.compensations.register(Steps.SNAPSHOT, key -> discard(m.snapshot));
      m.snapshot =
          m.step(
              Steps.SNAPSHOT,
              () ->
                  m.snapshots.dumpDatabase(
                      new SnapshotRequest(Workflow.randomUUID().toString(), m.databases.sourceUrlRef(), m.jobs)),
              s -> s.tables() + " tables, " + ByteSize.format(s.bytes()) + " on " + s.hostTaskQueue());
      RestoreActivities restore =
          m.stub(RestoreActivities.class, ActivityCatalog.restore(m.snapshot.hostTaskQueue(), m.tuning.hostWait()));
      try {
        return m.step(
            Steps.RESTORE,
            () ->
                restore.restoreDatabase(
                    new RestoreRequest(Workflow.randomUUID().toString(), m.snapshot, m.databases.targetUrlRef(), m.jobs)),
            r -> r.tables() + " tables, " + ByteSize.format(r.bytes()));
      } catch (TemporalFailure e) {
        boolean hostLost = Failures.isScheduleToStartTimeout(e);
        boolean filesLost = Errors.SNAPSHOT_MISSING.equals(Failures.type(e));
        if (!(hostLost || filesLost) || attempt == MAX_SNAPSHOT_ATTEMPTS) {
          throw e;
        }
        m.record.note(
            hostLost
                ? "no worker took the restore on "
                    + m.snapshot.hostTaskQueue()
                    + "; snapshot files may remain there in "
                    + m.snapshot.directory()
                    + "; taking a new snapshot"
                : m.snapshot.hostTaskQueue() + " no longer has the snapshot; taking a new one");
        m.compensations.discharge(Steps.SNAPSHOT);
        m.snapshot = null;
      }
    }
  }

  /** Deletes the dump files on the way forward: they hold production data. */
  private void discardSnapshot() {
    m.step(Steps.DISCARD_SNAPSHOT, () -> discard(m.snapshot), s -> s);
    m.compensations.discharge(Steps.SNAPSHOT);
  }

  /** Deletes a snapshot's files on its host; nothing to do when there is none. */
  private String discard(Snapshot snapshot) {
    if (snapshot == null) {
      return "no snapshot finished (a dump that failed removes its partial files)";
    }
    SnapshotActivities onHost =
        m.stub(SnapshotActivities.class, ActivityCatalog.discardSnapshot(snapshot.hostTaskQueue()));
    onHost.discardSnapshot(snapshot);
    return "deleted " + snapshot.directory() + " on " + snapshot.hostTaskQueue();
  }
}

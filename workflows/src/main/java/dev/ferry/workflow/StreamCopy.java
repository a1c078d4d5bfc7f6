package dev.ferry.workflow;

import dev.ferry.activity.CopyActivities;
import dev.ferry.model.ByteSize;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.SnapshotSpec;
import dev.ferry.model.runbook.Strategy;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;

/**
 * The streaming copy ({@code snapshot.method: stream}) as a run drives it: one activity holds an
 * exported snapshot of the source for the copy's duration (on the loop queue) while {@code jobs} copier activities, on
 * whichever workers poll the shared queue, stream the tables from it into the target, build each
 * table's indexes as it lands and check its rows; then the constraints and the rest of the schema.
 * The history holds a fixed number of activities whatever the number of tables: the plan and the
 * progress are in the copy's bookkeeping on the target.
 *
 * <p>The holder never completes while the copy needs it. When it does (its session ended, or its
 * worker died and its heartbeat timed out) the copiers are cancelled and the copy goes on from a
 * new snapshot (an epoch), keeping what the lost one finished where that is exact; at most {@link
 * #MAX_SNAPSHOTS} snapshots.
 */
final class StreamCopy {
  /**
   * Added with the streaming copy: single-phase runs stream their copy ({@code snapshot.method:
   * stream}, the default) instead of pg_dump and pg_restore, and the trigger method's initial copy
   * streams too. Runs begun before keep the dump.
   */
  static final String VERSION = "stream-copy";
  /**
   * The snapshot's holder runs on the loop queue ({@link ActivityCatalog#loopQueue}, {@code
   * FERRY_MAX_LOOPS} slots per worker) rather than the shared queue: it lasts as long as the copy
   * and held one of a worker's {@code FERRY_MAX_ACTIVITIES} slots all that time, one the copiers
   * and other runs' steps wait for. Runs begun before keep their holder on the shared queue.
   */
  static final String HOLDER_LOOP = "stream-copy-holder-loop";
  static final int MAX_SNAPSHOTS = 3;

  private final Migration m;
  private final CopyRequest request;
  private final int copiers;
  private final CopyActivities control;
  private final CopyActivities holder;
  private final CopyActivities work;
  private final CopyActivities report;

  StreamCopy(Migration m, String mode) {
    this.m = m;
    this.request = new CopyRequest(Workflow.randomUUID().toString(), m.databases, m.jobs, mode, 1, 0);
    this.copiers = request.copiers();
    this.control = m.stub(CopyActivities.class, ActivityCatalog.copyControl());
    String loopQueue =
        Workflow.getVersion(HOLDER_LOOP, Workflow.DEFAULT_VERSION, 1) == 1
            ? ActivityCatalog.loopQueue(Workflow.getInfo().getTaskQueue())
            : null;
    this.holder = m.stub(CopyActivities.class, ActivityCatalog.copySnapshot(loopQueue));
    this.work = m.stub(CopyActivities.class, ActivityCatalog.copyWork());
    this.report = m.stub(CopyActivities.class, ActivityCatalog.verify());
  }

  /** Whether a run of this runbook streams its copy (for runs begun after {@link #VERSION}). */
  static boolean applies(Runbook runbook) {
    SnapshotSpec snapshot = runbook.snapshot() == null ? SnapshotSpec.DEFAULT : runbook.snapshot();
    if (!SnapshotSpec.STREAM.equals(snapshot.methodOrDefault())) {
      return false;
    }
    return runbook.strategy() == Strategy.SINGLE_PHASE
        || (runbook.sync() != null && SyncSpec.TRIGGER.equals(runbook.sync().method()));
  }

  /** The copy's idempotency key: the trigger sync reads the copy's bookkeeping by it. */
  String key() {
    return request.idempotencyKey();
  }

  /**
   * The {@link Steps#COPY} step, its compensation registered first: ending the copy's sessions on
   * both sides (a snapshot held open holds the source's vacuum back) and dropping its
   * bookkeeping. What was copied stays in the target, claimed by the run, as a failed restore's
   * does: a new run needs an empty target. {@code inside} runs last within the step, while the
   * bookkeeping is still there (the trigger sync reads it).
   */
  CopyResult copy(java.util.function.Consumer<CopyResult> inside) {
    m.compensations.register(
        Steps.COPY,
        key -> {
          control.endCopy(request);
          return "the copy's sessions ended on both sides and its bookkeeping dropped; what it copied stays in the"
              + " target (drop and recreate the target database before migrating again)";
        });
    return m.step(
        Steps.COPY,
        () -> {
          CopyResult result = run();
          inside.accept(result);
          return result;
        },
        StreamCopy::describe);
  }

  /** The copy as the run's status shows a restore: tables and bytes. */
  static RestoreResult asRestore(CopyResult result) {
    return new RestoreResult(result.tables(), result.bytes());
  }

  /** The {@link Steps#VERIFY} step: what the copy proved, table by table, and the rest compared. */
  void verify() {
    m.verify(Steps.VERIFY, () -> report.verifyCopy(request));
  }

  /** Drops the bookkeeping on the way forward; nothing is left to compensate. */
  void end() {
    control.endCopy(request);
    m.compensations.discharge(Steps.COPY);
  }

  private CopyResult run() {
    for (int epoch = 1; ; epoch++) {
      CopyRequest at = request.atEpoch(epoch);
      List<Promise<Void>> held = new ArrayList<>();
      CancellationScope holding = Workflow.newCancellationScope(() -> held.add(Async.procedure(holder::holdSnapshot, at)));
      holding.run();
      Promise<Void> snapshot = held.get(0);
      try {
        // The plan waits for the holder's snapshot; the copiers start once it is done. (Started
        // with it, copiers waiting for a plan that has no free activity slot yet would never end.)
        List<Promise<CopyPlan>> planned = new ArrayList<>();
        CancellationScope planning = Workflow.newCancellationScope(() -> planned.add(Async.function(work::planCopy, at)));
        planning.run();
        Promise<CopyPlan> plan = planned.get(0);
        // Whichever ends first; a failure is looked at below, not thrown here (getFailure() waits
        // for a promise that is not complete: only completed ones are asked).
        Workflow.await(() -> snapshot.isCompleted() || plan.isCompleted());
        if (!plan.isCompleted()) {
          planning.cancel();
          lost(snapshot, epoch);
          continue;
        }
        if (plan.getFailure() != null) {
          throw (TemporalFailure) plan.getFailure();
        }
        if (epoch > 1) {
          m.record.note("copy from snapshot " + epoch + ": " + plan.get().kept() + " table(s) kept from the lost snapshot, "
              + plan.get().restarted() + " started again");
        }
        List<Promise<Void>> copying = new ArrayList<>();
        CancellationScope working =
            Workflow.newCancellationScope(
                () -> {
                  for (int i = 1; i <= copiers; i++) {
                    copying.add(Async.procedure(work::copyTables, at.copier(i)));
                  }
                });
        working.run();
        Promise<Void> all = Promise.allOf(copying);
        Workflow.await(() -> snapshot.isCompleted() || all.isCompleted());
        if (!all.isCompleted()) {
          working.cancel();
          lost(snapshot, epoch);
          continue;
        }
        if (all.getFailure() != null) {
          working.cancel();
          throw (TemporalFailure) all.getFailure();
        }
      } finally {
        // Done with the snapshot (or failed): its transaction must not stay open on the source.
        holding.cancel();
      }
      return work.finishCopy(at);
    }
  }

  /**
   * The snapshot's holder ended while the copy needed it: fails the copy when it was refused
   * (retrying cannot help) or lost too often, otherwise notes it and lets the copy go on.
   */
  private void lost(Promise<Void> snapshot, int epoch) {
    TemporalFailure why = snapshot.getFailure() instanceof TemporalFailure f ? f : null;
    ApplicationFailure cause = applicationCause(why);
    if (cause != null && cause.isNonRetryable()) {
      throw why;
    }
    String reason = why == null ? "it ended" : Failures.describe(why);
    if (epoch >= MAX_SNAPSHOTS) {
      // Not caused by the last loss: the run's failure takes the innermost cause's type.
      throw ApplicationFailure.newNonRetryableFailure(
          "the copy's snapshot was lost " + epoch + " times (last: " + reason + "); is a worker dying again and again,"
              + " or something ending Ferry's sessions on the source?",
          Errors.SNAPSHOT_LOST);
    }
    m.record.note("the copy's snapshot " + epoch + " was lost (" + reason + "); the copy goes on from a new one");
  }

  private static ApplicationFailure applicationCause(TemporalFailure failure) {
    Throwable t = failure;
    while (t != null) {
      if (t instanceof ApplicationFailure a) {
        return a;
      }
      if (!(t instanceof ActivityFailure) && t != failure) {
        return null;
      }
      t = t.getCause();
    }
    return null;
  }

  static String describe(CopyResult r) {
    return r.tables() + " tables, " + r.rows() + " rows, " + ByteSize.format(r.bytes()) + " streamed in " + r.chunks()
        + " chunks, each table checked as it landed; " + r.indexes() + " indexes built alongside"
        + (r.recopied() > 0 ? "; " + r.recopied() + " chunk(s) copied again after a check" : "")
        + (r.snapshots() > 1 ? "; " + r.detail() : "");
  }
}

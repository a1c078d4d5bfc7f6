package dev.ferry.workflow;

import dev.ferry.activity.PreverifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.verify.ChangedVerification;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.List;
import java.util.function.Supplier;

/**
 * Verification before the freeze, for the multi-phase strategy: while the sync runs, the target
 * is proven chunk by chunk in the background ({@link PreverifyActivities#preverifyWhileSyncing});
 * the step {@code pre-verify} waits for its first pass, the cutover gate shows its coverage and
 * age, and at the freeze the final verify re-checks only what has no standing proof. Its proofs
 * live on the target, so nothing here grows with the number of tables.
 */
final class Preverification {
  /**
   * Added with pre-verification. Runs begun before it verify the whole database at the freeze,
   * as they always did; newer ones pre-verify.
   */
  static final String VERSION = "preverify";

  /**
   * The step {@code pre-verify} also ends once few changed rows are left for the freeze, however
   * old ({@link PreverifyCoverage#fewLeftForTheFreeze}).
   */
  static final String FEW_FOR_THE_FREEZE = "preverify-few-for-the-freeze";

  private final Migration m;
  private final PreverifyRequest request;
  private final PreverifyActivities loop;
  private final PreverifyActivities control;
  private final PreverifyActivities verify;
  private CancellationScope scope;
  private Promise<Void> running;
  private PreverifyCoverage coverage;

  private Preverification(Migration m, SyncRequest sync, String loopQueue) {
    this.m = m;
    this.request = new PreverifyRequest(Workflow.randomUUID().toString(), m.databases, sync);
    this.loop = m.stub(PreverifyActivities.class, ActivityCatalog.preverify(loopQueue));
    this.control = m.stub(PreverifyActivities.class, ActivityCatalog.syncControl());
    this.verify = m.stub(PreverifyActivities.class, ActivityCatalog.verify());
  }

  /**
   * This run's pre-verification, its loop on {@code loopQueue} (the workflow's queue when {@code
   * null}), or {@code null} for a run begun before it existed (its step shows skipped).
   */
  static Preverification of(Migration m, SyncRequest sync, String loopQueue) {
    if (Workflow.getVersion(VERSION, Workflow.DEFAULT_VERSION, 1) != 1) {
      // Status only: a skip event would add a command the old history lacks.
      m.record.skip(Steps.PREVERIFY, "this run began before Ferry pre-verified: the final verify reads every row");
      return null;
    }
    return new Preverification(m, sync, loopQueue);
  }

  /** Starts proving in the background; its undo (stop, drop the bookkeeping) is registered first. */
  void start() {
    m.compensations.register(
        Steps.PREVERIFY,
        key -> {
          stop();
          control.dropPreverification(request);
          return "pre-verification stopped, its proofs and captures dropped";
        });
    scope = Workflow.newCancellationScope(() -> {
      running = Async.procedure(loop::preverifyWhileSyncing, request);
    });
    scope.run();
  }

  /**
   * The step {@code pre-verify}: waits until every chunk was compared once and the changed rows are
   * re-checked within {@code sync.maxLag} of their change (what the freeze then re-checks is what
   * changes in about that long, whatever the database's size) or are few ({@link
   * PreverifyCoverage#fewLeftForTheFreeze}: hot rows), or until the runbook's {@code
   * sync.catchUpTimeout} (the cutover gate then opens with what is proven, and says so). Fails when
   * the pre-verification or the apply stopped.
   */
  PreverifyCoverage awaitFirstPass(SyncSpec spec, Supplier<TemporalFailure> applyStopped) {
    // Added when hot rows kept the gate shut: runs begun before wait for the changed rows' age alone.
    boolean fewEnough = Workflow.getVersion(FEW_FOR_THE_FREEZE, Workflow.DEFAULT_VERSION, 1) == 1;
    long deadline = Workflow.currentTimeMillis() + spec.catchUpTimeout().toMillis();
    while (true) {
      TemporalFailure stopped = failure();
      if (stopped == null) {
        stopped = applyStopped.get();
      }
      if (stopped != null) {
        throw stopped;
      }
      coverage = control.measurePreverification(request);
      if (coverage.caughtUp(spec.maxLag()) || (fewEnough && coverage.fewLeftForTheFreeze())) {
        return coverage;
      }
      if (Workflow.currentTimeMillis() >= deadline) {
        m.record.note(
            "pre-verification did not catch up within " + GateKeeper.format(spec.catchUpTimeout())
                + " (sync.catchUpTimeout): " + coverage.summary() + "; the final verify re-checks the rest, with the source frozen");
        return coverage;
      }
      Workflow.sleep(m.tuning.lagPoll());
    }
  }

  /** The cutover gate's evidence: coverage and age, read as the gate opens. */
  List<String> evidence() {
    coverage = control.measurePreverification(request);
    return coverage.evidence();
  }

  /**
   * Why the pre-verification stopped, when it failed (a difference it proved, named by table and
   * key); {@code null} while it runs or once it was stopped.
   */
  TemporalFailure failure() {
    if (running == null || !running.isCompleted() || !(running.getFailure() instanceof TemporalFailure failure)) {
      return null;
    }
    String type = Errors.VERIFICATION_FAILED;
    if (failure.getCause() instanceof ApplicationFailure cause && cause.getType() != null) {
      type = cause.getType();
    }
    return ApplicationFailure.newNonRetryableFailureWithCause("pre-verification stopped: " + Failures.describe(failure), type, failure);
  }

  /** Asks the background pre-verification to stop, without waiting. */
  void requestStop() {
    if (scope != null) {
      scope.cancel();
    }
  }

  /** Stops proving (before the freeze: its sessions must not outlive it) and waits until it has. */
  void stop() {
    if (scope == null) {
      return;
    }
    scope.cancel();
    try {
      running.get();
    } catch (TemporalFailure stopped) {
      // Cancelled, as asked; or failed before, which the gate has seen.
    }
    scope = null;
  }

  /**
   * The final verify, the source frozen and drained: what has no standing proof, plus sequences,
   * schema and large objects. The step says how much it re-checked.
   */
  void verifyAtTheFreeze(String stepName) {
    ChangedVerification result =
        m.step(stepName, () -> verify.verifyChangedSincePreverified(request), r -> r.report().summary() + "; " + r.recheck());
    m.verification = result.report();
    if (result.report().mismatches() > 0) {
      m.record.failed(stepName, Migration.now(), result.report().summary());
      throw ApplicationFailure.newNonRetryableFailure(
          "verification failed: " + result.report().summary(), Errors.VERIFICATION_FAILED);
    }
  }

  /** Drops the bookkeeping and the captures (decommission). */
  String drop() {
    control.dropPreverification(request);
    return "pre-verification's bookkeeping dropped";
  }
}

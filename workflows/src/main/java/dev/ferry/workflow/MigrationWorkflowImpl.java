package dev.ferry.workflow;

import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.ByteSize;
import dev.ferry.model.Decision;
import dev.ferry.model.Errors;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.FreezeResult;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The single-phase strategy: preflight → gate {@code start} → freeze the source → snapshot →
 * restore → verify → sync sequences → unfreeze the source → discard the snapshot. Nothing
 * changes in the world before the start gate is approved; a failure or cancellation after the
 * freeze unfreezes the source and deletes the dump.
 */
public class MigrationWorkflowImpl implements MigrationWorkflow {
  private static final Logger log = Workflow.getLogger(MigrationWorkflowImpl.class);
  /** Snapshots taken again when the host holding one stops serving its task queue. */
  static final int MAX_SNAPSHOT_ATTEMPTS = 3;

  private final PreflightActivities preflight =
      Workflow.newActivityStub(PreflightActivities.class, ActivityCatalog.preflight());
  private final SnapshotActivities snapshots =
      Workflow.newActivityStub(SnapshotActivities.class, ActivityCatalog.snapshot());
  private final VerifyActivities verify =
      Workflow.newActivityStub(VerifyActivities.class, ActivityCatalog.verify());
  private final FreezeActivities freeze =
      Workflow.newActivityStub(FreezeActivities.class, ActivityCatalog.sourceChanges());
  private final SequenceActivities sequences =
      Workflow.newActivityStub(SequenceActivities.class, ActivityCatalog.sourceChanges());

  private final Duration hostWait;
  private final RunRecord record = new RunRecord(Steps.SINGLE_PHASE);
  private MigrationRequest request;
  private GateKeeper gates;
  private Instant startedAt;
  private PreflightReport preflightReport;
  private Snapshot snapshot;
  private RestoreResult restoreResult;
  private VerificationReport verification;
  /** Set once the freeze step starts: from then on, failure and cancellation unfreeze. */
  private boolean freezeStarted;

  public MigrationWorkflowImpl() {
    this(ActivityCatalog.HOST_WAIT);
  }

  /**
   * @param hostWait how long a host-bound task may wait for the worker of the host holding the
   *     snapshot (tests shorten it: the test server cannot skip time over an unstarted activity)
   */
  public MigrationWorkflowImpl(Duration hostWait) {
    this.hostWait = hostWait;
  }

  @Override
  public RunStatus run(MigrationRequest request) {
    this.request = request;
    this.startedAt = now();
    Runbook runbook = request.runbook();
    this.gates = new GateKeeper(runbook, request.startedBy());
    DatabasePair databases =
        new DatabasePair(runbook.source().databaseUrl(), runbook.target().databaseUrl());
    Integer jobs = runbook.snapshot() == null ? null : runbook.snapshot().jobs();
    try {
      preflightReport =
          step(Steps.PREFLIGHT, () -> preflight.auditDatabases(databases), this::describePreflight);

      Decision start = gate(Gates.START);
      if (start.verdict() == Verdict.REJECT) {
        record.skipRemaining("the run was rejected at gate " + Gates.START);
        record.finish(RunState.REJECTED, now(), null);
        return status();
      }

      // From here on the app cannot write to the source: the snapshot is the whole truth.
      freezeStarted = true;
      step(Steps.FREEZE_SOURCE, () -> freeze.freezeSource(databases.sourceUrlRef()), this::describeFreeze);

      restoreResult = snapshotAndRestore(databases, jobs);

      verification =
          step(Steps.VERIFY, () -> verify.verifyDatabases(new VerifyRequest(databases, jobs)), VerificationReport::summary);
      if (verification.mismatches() > 0) {
        record.failed(Steps.VERIFY, now(), verification.summary());
        throw ApplicationFailure.newNonRetryableFailure(
            "verification failed: " + verification.summary(), Errors.VERIFICATION_FAILED);
      }
      step(Steps.SYNC_SEQUENCES, () -> sequences.syncSequences(databases), MigrationWorkflowImpl::describeSequences);
      unfreezeSource(databases);
      discardSnapshot();
      record.finish(RunState.SUCCEEDED, now(), null);
      return status();
    } catch (TemporalFailure e) {
      if (CancellationScope.current().isCancelRequested()) {
        record.interruptRunning(now(), "cancelled");
        Workflow.newDetachedCancellationScope(() -> undo(databases)).run();
        record.skipRemaining("the run was cancelled");
        record.finish(RunState.CANCELLED, now(), null);
        throw e instanceof CanceledFailure ? e : new CanceledFailure("the run was cancelled");
      }
      String failure = record.phase() + ": " + Failures.describe(e);
      record.interruptRunning(now(), Failures.describe(e));
      Workflow.newDetachedCancellationScope(() -> undo(databases)).run();
      record.skipRemaining("an earlier step failed");
      record.finish(RunState.FAILED, now(), failure);
      log.error("run failed: {}", failure);
      throw ApplicationFailure.newNonRetryableFailureWithCause(failure, Failures.type(e), e);
    }
  }

  /**
   * Dumps the source and restores it into the target. The dump lives on one worker host; if
   * that host stops serving its task queue before the restore starts, or no longer has the
   * files, take a new snapshot on a host that works.
   */
  private RestoreResult snapshotAndRestore(DatabasePair databases, Integer jobs) {
    for (int attempt = 1; ; attempt++) {
      snapshot =
          step(
              Steps.SNAPSHOT,
              () ->
                  snapshots.dumpDatabase(
                      new SnapshotRequest(
                          Workflow.randomUUID().toString(), databases.sourceUrlRef(), jobs)),
              s -> s.tables() + " tables, " + ByteSize.format(s.bytes()) + " on " + s.hostTaskQueue());
      RestoreActivities restore =
          Workflow.newActivityStub(
              RestoreActivities.class, ActivityCatalog.restore(snapshot.hostTaskQueue(), hostWait));
      try {
        return step(
            Steps.RESTORE,
            () ->
                restore.restoreDatabase(
                    new RestoreRequest(
                        Workflow.randomUUID().toString(), snapshot, databases.targetUrlRef(), jobs)),
            r -> r.tables() + " tables, " + ByteSize.format(r.bytes()));
      } catch (TemporalFailure e) {
        boolean hostLost = Failures.isScheduleToStartTimeout(e);
        boolean filesLost = Errors.SNAPSHOT_MISSING.equals(Failures.type(e));
        if (!(hostLost || filesLost) || attempt == MAX_SNAPSHOT_ATTEMPTS) {
          throw e;
        }
        record.note(
            hostLost
                ? "no worker took the restore on "
                    + snapshot.hostTaskQueue()
                    + "; snapshot files may remain there in "
                    + snapshot.directory()
                    + "; taking a new snapshot"
                : snapshot.hostTaskQueue() + " no longer has the snapshot; taking a new one");
        snapshot = null;
      }
    }
  }

  private Decision gate(String name) {
    String step = Steps.gate(name);
    record.begin(step, now());
    record.awaiting(name);
    Decision decision = gates.await(name);
    record.resumed();
    String detail =
        (decision.verdict() == Verdict.APPROVE ? "approved by " : "rejected by ")
            + decision.decidedBy()
            + (decision.comment() == null ? "" : ": " + decision.comment());
    if (decision.verdict() == Verdict.APPROVE) {
      record.done(step, now(), detail);
    } else {
      record.failed(step, now(), detail);
    }
    return decision;
  }

  /** After a failure or cancellation: the source takes writes again, the dump is deleted. */
  private void undo(DatabasePair databases) {
    if (freezeStarted) {
      try {
        unfreezeSource(databases);
      } catch (TemporalFailure e) {
        record.note(
            "could not make the source writable again: " + Failures.describe(e)
                + "; run ALTER DATABASE ... RESET default_transaction_read_only on it by hand");
      }
    }
    discardSnapshot();
  }

  private void unfreezeSource(DatabasePair databases) {
    if (preflightReport.source().readOnly()) {
      record.skip(Steps.UNFREEZE_SOURCE, "the source was read-only before the run; it stays so");
      return;
    }
    step(
        Steps.UNFREEZE_SOURCE,
        () -> {
          freeze.unfreezeSource(databases.sourceUrlRef());
          return null;
        },
        nothing -> "the source takes writes again");
    freezeStarted = false;
  }

  private String describeFreeze(FreezeResult result) {
    return "source read-only; " + result.sessionsEnded() + " open session(s) ended"
        + (result.sessionsLeft().isEmpty() ? ""
            : "; " + result.sessionsLeft().size() + " session(s) of other roles could not be ended and may"
                + " still write until they reconnect: " + String.join(", ", result.sessionsLeft()));
  }

  private static String describeSequences(SequenceSync sync) {
    return sync.set() + " set, " + sync.alreadyCurrent() + " already current"
        + (sync.aheadOnTarget().isEmpty() ? "" : "; ahead on the target, left: " + String.join(", ", sync.aheadOnTarget()));
  }

  /** Deletes the dump files: they hold production data. Best effort; a leftover is noted. */
  private void discardSnapshot() {
    if (snapshot == null) {
      return;
    }
    Snapshot toDiscard = snapshot;
    SnapshotActivities onHost =
        Workflow.newActivityStub(
            SnapshotActivities.class, ActivityCatalog.discardSnapshot(toDiscard.hostTaskQueue()));
    try {
      step(
          Steps.DISCARD_SNAPSHOT,
          () -> {
            onHost.discardSnapshot(toDiscard);
            return toDiscard.directory();
          },
          dir -> "deleted " + dir + " on " + toDiscard.hostTaskQueue());
    } catch (TemporalFailure e) {
      record.note(
          "could not delete snapshot files "
              + toDiscard.directory()
              + " on "
              + toDiscard.hostTaskQueue()
              + ": "
              + Failures.describe(e)
              + "; delete them by hand, they hold production data");
    }
  }

  private <T> T step(String name, Supplier<T> body, Function<T, String> describe) {
    record.begin(name, now());
    try {
      T result = body.get();
      record.done(name, now(), describe.apply(result));
      return result;
    } catch (TemporalFailure e) {
      record.failed(name, now(), Failures.describe(e));
      throw e;
    }
  }

  private String describePreflight(PreflightReport report) {
    return "source "
        + describe(report.source())
        + "; target "
        + describe(report.target())
        + (report.warnings().isEmpty() ? "" : "; " + report.warnings().size() + " warning(s)");
  }

  private static String describe(DatabaseFacts facts) {
    return facts.endpoint()
        + " (PostgreSQL "
        + facts.serverVersion()
        + ", "
        + ByteSize.format(facts.sizeBytes())
        + ", "
        + facts.tables()
        + " tables)";
  }

  @Override
  public RunStatus status() {
    Runbook runbook = request == null ? null : request.runbook();
    return new RunStatus(
        Workflow.getInfo().getWorkflowId(),
        runbook == null ? null : runbook.app(),
        runbook == null ? null : runbook.strategy().label(),
        record.state(),
        record.phase(),
        request == null ? null : request.startedBy(),
        startedAt,
        record.endedAt(),
        record.steps(),
        gates == null ? null : gates.pending(),
        gates == null ? List.of() : gates.decisions(),
        gates == null ? List.of() : gates.refused(),
        preflightReport,
        snapshot,
        restoreResult,
        verification,
        record.notes(),
        record.failure());
  }

  @Override
  public Decision decide(GateDecision decision) {
    return gates.accept(decision, Decision.VIA_UPDATE);
  }

  @Override
  public void validateDecide(GateDecision decision) {
    if (gates == null) {
      throw new GateDecisionRefused(
          GateDecisionRefused.Reason.NOT_PENDING, "the run has not started yet");
    }
    gates.validate(decision);
  }

  @Override
  public void decision(GateDecision decision) {
    if (gates == null) {
      return;
    }
    gates.acceptSignal(decision);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}

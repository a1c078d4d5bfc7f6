package dev.ferry.workflow;

import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.RehearsalActivities;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.ByteSize;
import dev.ferry.model.Errors;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalReport.PhaseTiming;
import dev.ferry.model.rehearsal.RehearsalRequest;
import dev.ferry.model.rehearsal.ScratchDatabase;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.options.ActivityCatalog;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
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
 * A rehearsal of one app's cutover: checks that nothing else of the app runs, creates a scratch
 * database on the target's server, snapshots the source, restores into the scratch database,
 * verifies and syncs sequences as the cutover would, times every phase, estimates the cutover's
 * write-downtime ({@link RehearsalEstimate}) and records the report in the ledger.
 *
 * <p>It never freezes the source, never touches DNS, Heroku or the production target database:
 * every database activity gets the scratch database's reference as its target. The snapshot
 * files and the scratch database are removed at the end in a scope no cancellation reaches,
 * whether the rehearsal succeeded, failed or was cancelled. A failed rehearsal returns its
 * report (the failure is in it); only a cancelled one ends in a cancellation.
 */
public class RehearsalWorkflowImpl implements RehearsalWorkflow {
  private static final Logger log = Workflow.getLogger(RehearsalWorkflowImpl.class);

  static final String OVERLAP_CHECK = "overlap-check";
  static final String CREATE_SCRATCH = "create-scratch";
  static final String FREEZE_PROBE = "freeze-probe";
  static final String DROP_SCRATCH = "drop-scratch";
  static final List<String> PHASES =
      List.of(
          OVERLAP_CHECK,
          CREATE_SCRATCH,
          Steps.PREFLIGHT,
          FREEZE_PROBE,
          Steps.SNAPSHOT,
          Steps.RESTORE,
          Steps.VERIFY,
          Steps.SYNC_SEQUENCES,
          Steps.DISCARD_SNAPSHOT,
          DROP_SCRATCH);

  private final Tuning tuning;

  private RehearsalRequest request;
  private Runbook runbook;
  private RunRecord record;
  private Instant startedAt;
  private RehearsalActivities rehearsal;
  private RehearsalLedgerActivities reports;
  private LedgerActivities ledger;
  private final List<Promise<Void>> eventsInFlight = new ArrayList<>();
  private long eventSeq;

  private ScratchDatabase scratch;
  /** Set before the create is asked for: a create that dies halfway may leave the database. */
  private boolean scratchMayExist;
  private PreflightReport preflight;
  private Snapshot snapshot;
  private RestoreResult restored;
  private VerificationReport verification;
  private String verificationText;
  private final List<String> errors = new ArrayList<>();

  public RehearsalWorkflowImpl() {
    this(Tuning.DEFAULT);
  }

  public RehearsalWorkflowImpl(Tuning tuning) {
    this.tuning = tuning;
  }

  @Override
  public RehearsalReport rehearse(RehearsalRequest request) {
    if (request == null || request.runbook() == null || request.runbook().target() == null
        || request.runbook().source() == null || request.runbook().strategy() == null) {
      // Only ApplicationFailure may leave workflow code: anything else would retry the task forever.
      throw ApplicationFailure.newNonRetryableFailure(
          "a rehearsal needs a runbook with strategy, source and target (as POST /api/rehearsals sends)", Errors.STEP_FAILED);
    }
    this.request = request;
    this.runbook = request.runbook();
    this.record = new RunRecord(PHASES);
    // Search attributes (FerryApp, FerryPhase, ...): only on runs begun with them (RunPhase.VERSION).
    RunPhase.publish(record, RunKind.REHEARSAL, runbook);
    this.startedAt = Migration.now();
    rehearsal = stub(RehearsalActivities.class, ActivityCatalog.scratchDatabase());
    reports = stub(RehearsalLedgerActivities.class, ActivityCatalog.ledger());
    ledger = stub(LedgerActivities.class, ActivityCatalog.ledger());
    try {
      scratch = ScratchDatabase.forRehearsal(runId(), Workflow.randomUUID().toString(), runbook.target().databaseUrl());
    } catch (IllegalArgumentException e) {
      throw ApplicationFailure.newNonRetryableFailure("target.databaseUrl: " + e.getMessage(), Errors.STEP_FAILED);
    }

    // Waited for, not sent off, so that a rehearsal starting at the same moment sees this one;
    // outside the cancellation, so that a run the ledger shows started always ends there too.
    RunEvent started =
        newEvent(RunEventType.STARTED, null, request.startedBy(),
            "rehearsal (" + runbook.strategy().label() + ")"
                + (request.scheduleId() == null ? "" : ", schedule " + request.scheduleId()));
    Workflow.newDetachedCancellationScope(() -> ledger.recordRunEvent(started)).run();

    String skipped = null;
    boolean cancelled = false;
    try {
      List<ActiveRun> others =
          phase(OVERLAP_CHECK, () -> overlapping(reports.activeRuns(runbook.app())), RehearsalWorkflowImpl::describe);
      if (others.isEmpty()) {
        rehearse();
      } else {
        skipped = "not rehearsed: " + describe(others) + "; a rehearsal never overlaps another run of the app";
      }
    } catch (TemporalFailure e) {
      cancelled = CancellationScope.current().isCancelRequested();
      String why = cancelled ? "the rehearsal was cancelled" : record.phase() + ": " + Failures.describe(e);
      record.interruptRunning(Migration.now(), cancelled ? "cancelled" : Failures.describe(e));
      errors.add(why);
      log.warn("rehearsal failed: {}", why);
    }
    if (skipped != null) {
      String why = skipped;
      record.skipRemaining(why);
      RehearsalReport report = report(why, Migration.now());
      Workflow.newDetachedCancellationScope(() -> end(report, RunState.CANCELLED, null, "skipped: " + why)).run();
      return report;
    }
    // Production data must not stay on a worker's disk, nor a scratch database on the server.
    Workflow.newDetachedCancellationScope(this::cleanUp).run();
    record.skipRemaining(cancelled ? "the rehearsal was cancelled" : "an earlier phase failed");
    RunState state = cancelled ? RunState.CANCELLED : errors.isEmpty() ? RunState.SUCCEEDED : RunState.FAILED;
    String failure = errors.isEmpty() ? null : String.join("; ", errors);
    RehearsalReport report = report(null, Migration.now());
    Workflow.newDetachedCancellationScope(() -> end(report, state, failure, failure)).run();
    if (cancelled) {
      throw new CanceledFailure("the rehearsal was cancelled");
    }
    return report;
  }

  /** The phases that touch databases, in order; a failure ends them. */
  private void rehearse() {
    // The source as the runbook names it; the target is always the scratch database.
    String source = runbook.source().databaseUrl();
    Integer jobs = runbook.snapshot() == null ? null : runbook.snapshot().jobs();
    scratchMayExist = true;
    String scratchRef =
        phase(CREATE_SCRATCH, () -> rehearsal.createScratchDatabase(scratch), ref -> scratch.name() + " on the target's server");
    DatabasePair pair = new DatabasePair(source, scratchRef);
    preflight = phase(Steps.PREFLIGHT, () -> preflightActivities().auditDatabases(pair), Migration::describe);
    phase(FREEZE_PROBE, () -> rehearsal.probeFreeze(source), s -> s);
    if (!request.freshSnapshot()) {
      // Snapshots hold production data and are deleted as soon as their run is done with them.
      record.note("no earlier snapshot is kept to reuse (each run deletes its own): took a fresh one");
    }
    SnapshotActivities snapshots = stub(SnapshotActivities.class, ActivityCatalog.snapshot());
    snapshot =
        phase(
            Steps.SNAPSHOT,
            () -> snapshots.dumpDatabase(new SnapshotRequest(Workflow.randomUUID().toString(), source, jobs)),
            s -> s.tables() + " tables, " + ByteSize.format(s.bytes()) + " on " + s.hostTaskQueue());
    RestoreActivities restore =
        stub(RestoreActivities.class, ActivityCatalog.restore(snapshot.hostTaskQueue(), tuning.hostWait()));
    restored =
        phase(
            Steps.RESTORE,
            () -> restore.restoreDatabase(new RestoreRequest(Workflow.randomUUID().toString(), snapshot, scratchRef, jobs)),
            r -> r.tables() + " tables, " + ByteSize.format(r.bytes()) + " into " + scratch.name());
    VerifyActivities verify = stub(VerifyActivities.class, ActivityCatalog.verify());
    verification = phase(Steps.VERIFY, () -> verify.verifyDatabases(new VerifyRequest(pair, jobs)), this::judge);
    if (verificationText.startsWith("FAILED")) {
      record.failed(Steps.VERIFY, Migration.now(), verificationText);
      throw ApplicationFailure.newNonRetryableFailure("verification failed: " + verification.summary(), Errors.VERIFICATION_FAILED);
    }
    SequenceActivities sequences = stub(SequenceActivities.class, ActivityCatalog.sourceChanges());
    phase(Steps.SYNC_SEQUENCES, () -> sequences.syncSequences(pair), Migration::describe);
  }

  /**
   * A rehearsal does not freeze the source, so rows written after the snapshot differ: those are
   * drift, reported but not a failure. A table or sequence missing on either side, or any schema
   * difference, is what a real cutover would trip on: that fails the rehearsal.
   */
  private String judge(VerificationReport v) {
    if (v.mismatches() == 0) {
      verificationText = "MATCH: " + v.summary();
      return verificationText;
    }
    // From the report's counts (or, in reports made before it had them, its lists, which name
    // every object): the same answer either way, so runs recorded before replay as they ran.
    boolean structural = v.schemaDifferences() > 0 || v.tablesOneSided() > 0 || v.sequencesOneSided() > 0;
    if (structural) {
      verificationText = "FAILED: " + v.summary();
    } else {
      long tables = v.tablesDiffering();
      long sequences = v.sequencesDiffering();
      verificationText =
          "DRIFT: schema, tables and sequences all present; " + tables + " table(s) and " + sequences
              + " sequence(s) changed on the live source after the snapshot (a rehearsal does not freeze it): "
              + v.summary();
    }
    return verificationText;
  }

  /** Discards the snapshot and drops the scratch database; a failure here is an error of the report. */
  private void cleanUp() {
    if (snapshot == null) {
      record.skip(Steps.DISCARD_SNAPSHOT, "no snapshot finished (a dump that failed removes its partial files)");
    } else {
      Snapshot s = snapshot;
      SnapshotActivities onHost = stub(SnapshotActivities.class, ActivityCatalog.discardSnapshot(s.hostTaskQueue()));
      try {
        phase(Steps.DISCARD_SNAPSHOT, () -> {
          onHost.discardSnapshot(s);
          return "deleted " + s.directory() + " on " + s.hostTaskQueue();
        }, d -> d);
      } catch (TemporalFailure e) {
        errors.add("the snapshot files may remain in " + s.directory() + " on " + s.hostTaskQueue() + ": " + Failures.describe(e));
      }
    }
    if (!scratchMayExist) {
      record.skip(DROP_SCRATCH, "no scratch database was created");
      return;
    }
    try {
      phase(DROP_SCRATCH, () -> {
        rehearsal.dropScratchDatabase(scratch);
        return "dropped " + scratch.name();
      }, d -> d);
    } catch (TemporalFailure e) {
      errors.add("the scratch database " + scratch.name() + " may remain on the target's server; drop it by hand: "
          + Failures.describe(e));
    }
  }

  /** The runs this rehearsal must not overlap: any migration of the app, and older rehearsals. */
  private List<ActiveRun> overlapping(List<ActiveRun> active) {
    ActiveRun self = active.stream().filter(r -> r.runId().equals(runId())).findFirst().orElse(null);
    Instant mine = self == null || self.createdAt() == null ? startedAt : self.createdAt();
    return active.stream()
        .filter(r -> !r.runId().equals(runId()))
        .filter(
            r -> r.kind() != RunKind.REHEARSAL
                || r.createdAt() == null
                || r.createdAt().isBefore(mine)
                // Two started at the same instant: the one with the smaller id goes first.
                || (r.createdAt().equals(mine) && r.runId().compareTo(runId()) < 0))
        .toList();
  }

  private static String describe(List<ActiveRun> runs) {
    if (runs.isEmpty()) {
      return "no other run of the app is under way";
    }
    return runs.stream().map(r -> r.kind().label() + " " + r.runId() + " is " + r.state()).reduce((a, b) -> a + ", " + b).orElse("");
  }

  private RehearsalReport report(String skipped, Instant finishedAt) {
    List<PhaseTiming> phases = record.steps().stream().map(RehearsalWorkflowImpl::timing).toList();
    RehearsalEstimate.Estimate estimate = null;
    if (skipped == null && errors.isEmpty()) {
      estimate =
          RehearsalEstimate.of(
              runbook,
              new RehearsalEstimate.Measured(
                  measured(FREEZE_PROBE), measured(Steps.SNAPSHOT), measured(Steps.RESTORE), measured(Steps.VERIFY),
                  measured(Steps.SYNC_SEQUENCES)));
    }
    long rows = verification == null ? 0 : verification.rowsOnSource();
    return new RehearsalReport(
        runId(),
        runbook.app(),
        runbook.strategy().label(),
        startedAt,
        finishedAt,
        skipped == null && errors.isEmpty(),
        phases,
        snapshot == null ? 0 : snapshot.bytes(),
        rows,
        verificationText,
        estimate == null ? null : estimate.total(),
        List.copyOf(errors),
        estimate == null ? null : estimate.basis(),
        skipped);
  }

  private Duration measured(String phase) {
    return record.steps().stream()
        .filter(s -> s.name().equals(phase) && s.state() == StepState.DONE && s.durationMillis() != null)
        .map(s -> Duration.ofMillis(s.durationMillis()))
        .findFirst()
        .orElse(null);
  }

  private static PhaseTiming timing(StepStatus s) {
    String state =
        switch (s.state()) {
          case DONE -> PhaseTiming.SUCCEEDED;
          case FAILED, COMPENSATED -> PhaseTiming.FAILED;
          default -> PhaseTiming.SKIPPED;
        };
    return new PhaseTiming(s.name(), state, s.durationMillis() == null ? null : Duration.ofMillis(s.durationMillis()), s.detail());
  }

  /**
   * Stores the report, and only then shows the rehearsal as ended (whoever sees it ended finds
   * its report), records the last event and waits for every event on its way.
   */
  private void end(RehearsalReport report, RunState state, String failure, String detail) {
    record.phase("recording the report");
    try {
      reports.recordRehearsalReport(report);
    } catch (TemporalFailure e) {
      record.note("the report could not be recorded in the ledger: " + Failures.describe(e));
    }
    record.finish(state, report.finishedAt(), failure);
    event(RunEventType.FINISHED, null, null, detail);
    List<Promise<Void>> settled = eventsInFlight.stream().map(p -> p.handle((ok, error) -> (Void) null)).toList();
    // As a migration does: the timer starts either way, so replay does not depend on the ledger's speed.
    Promise.anyOf(Promise.allOf(settled), Workflow.newTimer(Duration.ofMinutes(1))).get();
  }

  /** Runs a phase and records its start, end and outcome, as {@link Migration#step} does. */
  private <T> T phase(String name, Supplier<T> body, Function<T, String> describe) {
    record.begin(name, Migration.now());
    event(RunEventType.STEP_STARTED, name, null, null);
    try {
      T result = body.get();
      String detail = describe.apply(result);
      record.done(name, Migration.now(), detail);
      event(RunEventType.STEP_FINISHED, name, null, "done: " + detail);
      return result;
    } catch (TemporalFailure e) {
      record.failed(name, Migration.now(), Failures.describe(e));
      event(RunEventType.STEP_FINISHED, name, null, "failed: " + Failures.describe(e));
      throw e;
    }
  }

  private RunEvent newEvent(RunEventType type, String step, String actor, String detail) {
    return new RunEvent(
        runId(), ++eventSeq, Migration.now(), type, RunKind.REHEARSAL, runbook.app(), record.state(), step, actor, detail, null);
  }

  /** Writes an event to the ledger without waiting, outside the rehearsal's cancellation. */
  private void event(RunEventType type, String step, String actor, String detail) {
    RunEvent e = newEvent(type, step, actor, detail);
    Workflow.newDetachedCancellationScope(() -> eventsInFlight.add(Async.procedure(ledger::recordRunEvent, e))).run();
  }

  private PreflightActivities preflightActivities() {
    return stub(PreflightActivities.class, ActivityCatalog.preflight());
  }

  private <T> T stub(Class<T> type, ActivityOptions options) {
    if (options.getHeartbeatTimeout() != null) {
      options = ActivityOptions.newBuilder(options).setHeartbeatTimeout(tuning.heartbeatTimeout()).build();
    }
    return Workflow.newActivityStub(type, options);
  }

  private String runId() {
    return Workflow.getInfo().getWorkflowId();
  }

  @Override
  public RunStatus status() {
    if (record == null) {
      return null;
    }
    return new RunStatus(
        runId(),
        runbook.app(),
        runbook.strategy().label(),
        record.state(),
        record.phase(),
        request.startedBy(),
        startedAt,
        record.endedAt(),
        record.steps(),
        null,
        List.of(),
        List.of(),
        preflight,
        snapshot,
        restored,
        verification,
        record.notes(),
        record.failure(),
        null,
        null,
        null,
        List.of());
  }
}

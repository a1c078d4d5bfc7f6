package dev.ferry.model;

import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;
import java.time.Instant;
import java.util.List;

/**
 * A run as its {@code status} query shows it, and the result of a run that ended without failing.
 *
 * @param phase what the run does now, in words ({@code snapshot}, {@code awaiting approval:
 *     start}, {@code succeeded})
 * @param steps every step of the strategy in order, with its state and times
 * @param pendingGate the gate the run waits at, or {@code null}
 * @param refusedDecisions signals that tried to decide a gate and were refused
 * @param notes things that happened that an operator should read (a lost worker host, snapshot
 *     files left behind)
 * @param failure why the run failed, or {@code null}
 * @param sync multi-phase: what the sync set up, or {@code null}
 * @param lag multi-phase: the lag last measured, or {@code null}
 * @param pointOfNoReturn when the target first took (or may have taken) writes; after it, undoing
 *     the run needs the rollback gate
 * @param compensations the steps a rollback would undo now, newest first
 */
public record RunStatus(
    String runId,
    String app,
    String strategy,
    RunState state,
    String phase,
    String startedBy,
    Instant startedAt,
    Instant endedAt,
    List<StepStatus> steps,
    PendingGate pendingGate,
    List<Decision> decisions,
    List<RefusedDecision> refusedDecisions,
    PreflightReport preflight,
    Snapshot snapshot,
    RestoreResult restore,
    VerificationReport verification,
    List<String> notes,
    String failure,
    SyncSetup sync,
    SyncLag lag,
    Instant pointOfNoReturn,
    List<String> compensations) {}

package dev.ferry.model;

import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.VerificationReport;
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
    String failure) {}

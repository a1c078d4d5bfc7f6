package dev.ferry.model.runbook;

import java.time.Duration;
import java.util.Map;

/**
 * One app's migration, as the operator wrote it. Holds references to secrets (such as
 * {@code env:HEROKU_DATABASE_URL}), never a secret itself, so it can travel in workflow input and
 * be shown in the Temporal UI.
 *
 * <p>Build one with {@link RunbookParser}, which refuses a runbook that is wrong before anything
 * runs.
 *
 * @param sync multi-phase only: how the target is kept in sync ({@code null} for single-phase)
 * @param fallbackWindow multi-phase: how long after the traffic moved the run keeps Heroku able
 *     to take traffic back before it asks to decommission
 * @param notifications where reminders and gate openings go, or {@code null}
 * @param rehearsals the cutover budget ({@code rehearsals: {maxDowntime, maxAge}}), or {@code null}
 */
public record Runbook(
    String app,
    Strategy strategy,
    SourceSpec source,
    TargetSpec target,
    SnapshotSpec snapshot,
    Map<String, GateSpec> gates,
    SyncSpec sync,
    Duration fallbackWindow,
    NotificationSpec notifications,
    // The cutover edge, each null when the runbook has no such section.
    DnsSpec dns,
    HerokuSpec heroku,
    ConfigVarsSpec configVars,
    RdsSpec rds,
    // The cutover budget learned from rehearsals, or null.
    RehearsalsSpec rehearsals) {
  public static final Duration DEFAULT_FALLBACK_WINDOW = Duration.ofHours(72);

  /** The gate's settings as written, or the defaults for a gate the runbook does not mention. */
  public GateSpec gate(String name) {
    GateSpec spec = gates == null ? null : gates.get(name);
    return spec == null ? GateSpec.DEFAULT : spec;
  }
}

package dev.ferry.model.runbook;

import java.util.Map;

/**
 * One app's migration, as the operator wrote it. Holds references to secrets (such as
 * {@code env:HEROKU_DATABASE_URL}), never a secret itself, so it can travel in workflow input and
 * be shown in the Temporal UI.
 *
 * <p>Build one with {@link RunbookParser}, which refuses a runbook that is wrong before anything
 * runs.
 */
public record Runbook(
    String app,
    Strategy strategy,
    SourceSpec source,
    TargetSpec target,
    SnapshotSpec snapshot,
    Map<String, GateSpec> gates,
    // The cutover edge, each null when the runbook has no such section.
    DnsSpec dns,
    HerokuSpec heroku,
    ConfigVarsSpec configVars,
    RdsSpec rds) {

  /** The gate's settings as written, or the defaults for a gate the runbook does not mention. */
  public GateSpec gate(String name) {
    GateSpec spec = gates == null ? null : gates.get(name);
    return spec == null ? GateSpec.DEFAULT : spec;
  }
}

package dev.ferry.workflow;

import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.Strategy;
import dev.ferry.model.runbook.SyncSpec;
import java.util.List;

/** Step names, as the status shows them, each strategy's plan, and why a step is skipped. */
final class Steps {
  static final String PREFLIGHT = "preflight";
  static final String GATE_START = gate(Gates.START);
  static final String LOWER_DNS_TTL = "lower-dns-ttl";
  static final String FREEZE_SOURCE = "freeze-source";
  static final String MAINTENANCE_ON = "maintenance-on";
  static final String COPY_CONFIG_VARS = "copy-config-vars";
  static final String SNAPSHOT = "snapshot";
  static final String RESTORE = "restore";
  /** The streaming copy ({@code snapshot.method: stream}), in place of snapshot and restore. */
  static final String COPY = "copy";
  static final String START_SYNC = "start-sync";
  static final String CATCH_UP = "catch-up";
  static final String PREVERIFY = "pre-verify";
  static final String GATE_CUTOVER = gate(Gates.CUTOVER);
  static final String DRAIN = "drain";
  static final String VERIFY = "verify";
  static final String SYNC_SEQUENCES = "sync-sequences";
  static final String DISCARD_SNAPSHOT = "discard-snapshot";
  static final String RESTORE_POINT = "restore-point";
  static final String SHIFT_TRAFFIC = "shift-traffic";
  static final String MAINTENANCE_OFF = "maintenance-off";
  static final String FALLBACK_WINDOW = "fallback-window";
  static final String GATE_DECOMMISSION = gate(Gates.DECOMMISSION);
  static final String DECOMMISSION = "decommission";
  /** Shown only when something fails past the point of no return. */
  static final String GATE_ROLLBACK = gate(Gates.ROLLBACK);

  static final List<String> SINGLE_PHASE =
      List.of(
          PREFLIGHT,
          GATE_START,
          LOWER_DNS_TTL,
          FREEZE_SOURCE,
          MAINTENANCE_ON,
          COPY_CONFIG_VARS,
          SNAPSHOT,
          RESTORE,
          VERIFY,
          SYNC_SEQUENCES,
          DISCARD_SNAPSHOT,
          RESTORE_POINT,
          SHIFT_TRAFFIC,
          MAINTENANCE_OFF,
          GATE_DECOMMISSION,
          DECOMMISSION);

  static final List<String> MULTI_PHASE =
      List.of(
          PREFLIGHT,
          GATE_START,
          START_SYNC,
          CATCH_UP,
          PREVERIFY,
          LOWER_DNS_TTL,
          GATE_CUTOVER,
          FREEZE_SOURCE,
          MAINTENANCE_ON,
          COPY_CONFIG_VARS,
          DRAIN,
          SYNC_SEQUENCES,
          VERIFY,
          RESTORE_POINT,
          SHIFT_TRAFFIC,
          MAINTENANCE_OFF,
          FALLBACK_WINDOW,
          GATE_DECOMMISSION,
          DECOMMISSION);

  /** Single-phase with the streaming copy: no dump to take, restore or discard. */
  static final List<String> SINGLE_PHASE_STREAM =
      List.of(
          PREFLIGHT,
          GATE_START,
          LOWER_DNS_TTL,
          FREEZE_SOURCE,
          MAINTENANCE_ON,
          COPY_CONFIG_VARS,
          COPY,
          VERIFY,
          SYNC_SEQUENCES,
          RESTORE_POINT,
          SHIFT_TRAFFIC,
          MAINTENANCE_OFF,
          GATE_DECOMMISSION,
          DECOMMISSION);

  /** Multi-phase, trigger method with the streaming copy: the capture is installed, then the copy runs. */
  static final List<String> MULTI_PHASE_STREAM =
      List.of(
          PREFLIGHT,
          GATE_START,
          START_SYNC,
          COPY,
          CATCH_UP,
          PREVERIFY,
          LOWER_DNS_TTL,
          GATE_CUTOVER,
          FREEZE_SOURCE,
          MAINTENANCE_ON,
          COPY_CONFIG_VARS,
          DRAIN,
          SYNC_SEQUENCES,
          VERIFY,
          RESTORE_POINT,
          SHIFT_TRAFFIC,
          MAINTENANCE_OFF,
          FALLBACK_WINDOW,
          GATE_DECOMMISSION,
          DECOMMISSION);

  static List<String> of(Strategy strategy) {
    return strategy == Strategy.MULTI_PHASE ? MULTI_PHASE : SINGLE_PHASE;
  }

  /** The steps of a run of {@code runbook}, which streams its copy or not ({@link StreamCopy#applies}). */
  static List<String> of(Runbook runbook, boolean streamCopy) {
    if (!streamCopy) {
      return of(runbook.strategy());
    }
    return runbook.strategy() == Strategy.MULTI_PHASE ? MULTI_PHASE_STREAM : SINGLE_PHASE_STREAM;
  }

  /**
   * Why the runbook makes the run skip this step, or {@code null} when it runs. The workflow and
   * the plan both ask here, so a plan shows what a run does.
   */
  static String skipReason(Runbook runbook, String step) {
    boolean maintenance = runbook.heroku() != null && runbook.heroku().maintenanceMode();
    return switch (step) {
      case LOWER_DNS_TTL, SHIFT_TRAFFIC ->
          runbook.dns() == null
              ? "Ferry does not move the traffic (the runbook has no dns section): point the app at the target"
                  + " yourself while the source is frozen; it stays read-only, and only a rollback makes it writable"
              : null;
      case MAINTENANCE_ON -> maintenance ? null : "no Heroku maintenance mode (heroku.maintenanceMode is not set)";
      case MAINTENANCE_OFF ->
          !maintenance ? "no Heroku maintenance mode (heroku.maintenanceMode is not set)"
              : runbook.dns() == null ? "Ferry did not move the traffic: Heroku stays in maintenance mode, and only a rollback turns it off"
              : null;
      case COPY_CONFIG_VARS -> runbook.configVars() == null ? "no configVars section: config vars are not copied" : null;
      case RESTORE_POINT ->
          runbook.rds() == null || !runbook.rds().restorePointBeforeCutover()
              ? "no RDS restore point (rds.restorePointBeforeCutover is not set)"
              : null;
      case DECOMMISSION ->
          runbook.strategy() == Strategy.MULTI_PHASE
                  || runbook.dns() != null
                  || (runbook.heroku() != null && runbook.heroku().scaleDownAtDecommission())
              ? null
              : "nothing to shut down: no dns section, and heroku.scaleDownAtDecommission is not set";
      default -> null;
    };
  }

  /** What a step does for this runbook, in a phrase, for plans. */
  static String purpose(Runbook runbook, String step) {
    if (step.equals(START_SYNC) && runbook.sync() != null && SyncSpec.LOGICAL.equals(runbook.sync().method())) {
      boolean sourceCredential = SyncSpec.SOURCE_CREDENTIAL.equals(runbook.sync().replicationRole());
      return purpose(step)
          + (sourceCredential
              ? "; the subscription logs in with the runbook's source credential, whose password the target keeps in"
                  + " pg_subscription until the drain (sync.replicationRole: source-credential)"
              : "; the subscription logs in to the source as ferry_repl_<run>, a role made for this run that may only"
                  + " replicate and read the published tables, whose password only the worker knows and is void once"
                  + " the copy is done; locked at the drain, dropped at teardown (sync.replicationRole: per-run)");
    }
    return purpose(step);
  }

  /** What a step does, in a phrase, for plans. */
  static String purpose(Runbook runbook, boolean streamed, String step) {
    if (step.equals(START_SYNC) && streamed) {
      return "installs change capture on the source, before the copy: every change the copy misses is captured";
    }
    if (step.equals(VERIFY) && streamed && runbook.strategy() == Strategy.SINGLE_PHASE) {
      return "reports the copy's table-by-table checks, and compares sequences, large objects and the schema";
    }
    return purpose(runbook, step);
  }

  static String purpose(String step) {
    return switch (step) {
      case PREFLIGHT -> "checks both databases, versions, extensions and the source's traps; changes nothing";
      case LOWER_DNS_TTL -> "lowers the records' TTL and waits out the old one, before any downtime";
      case FREEZE_SOURCE ->
          "makes the source database read-only, ends its open sessions and fences every table: no client but Ferry"
              + " writes, whatever it sets (only a rollback makes it writable again)";
      case MAINTENANCE_ON -> "turns Heroku's maintenance mode on";
      case COPY_CONFIG_VARS -> "copies the app's config vars to SSM and checks every key arrived";
      case SNAPSHOT -> "pg_dump -Fd -j N of the source onto a worker's disk";
      case RESTORE -> "pg_restore -j N --exit-on-error into the empty target";
      case COPY ->
          "streams every table from one exported snapshot of the source straight into the empty target (COPY, no files;"
              + " big tables in key ranges; N copiers on any workers), builds each table's indexes as it lands and checks"
              + " its rows against what was sent; constraints, sequences and large objects last";
      case START_SYNC -> "installs change capture, copies the schema and the data consistently with it";
      case CATCH_UP -> "applies changes until the target is less than sync.maxLag behind";
      case PREVERIFY ->
          "proves the target chunk by chunk while the sync runs, and re-checks each row that changes after;"
              + " the cutover gate waits for its first pass, the final verify re-checks only what has no standing proof";
      case DRAIN -> "with the source frozen, applies what is left until nothing is pending and brings the large objects"
          + " created, changed or removed since the copy across (compared by checksum)";
      case VERIFY -> "row counts and checksums in primary-key chunks, sequences and schema, both sides";
      case SYNC_SEQUENCES -> "sets the target's sequences to the source's values";
      case DISCARD_SNAPSHOT -> "deletes the dump files, which hold production data";
      case RESTORE_POINT -> "takes an RDS snapshot of the target";
      case SHIFT_TRAFFIC -> "moves traffic to AWS in the runbook's steps, smoke-checking each; a failed check moves it all back";
      case MAINTENANCE_OFF -> "turns maintenance mode back as it was (the frozen source still refuses writes)";
      case FALLBACK_WINDOW -> "waits the runbook's fallbackWindow with the way back open";
      case DECOMMISSION -> "tears the sync down (multi-phase), gives the AWS record a long TTL, scales Heroku's dynos to zero (when configured)";
      default -> step;
    };
  }

  static String gate(String name) {
    return "gate:" + name;
  }

  private Steps() {}
}

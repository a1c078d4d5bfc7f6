package dev.ferry.workflow;

import dev.ferry.model.runbook.Gates;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.Strategy;
import java.util.List;

/** Step names, as the status shows them, each strategy's plan, and why a step is skipped. */
final class Steps {
  static final String PREFLIGHT = "preflight";
  static final String GATE_START = gate(Gates.START);
  static final String FREEZE_SOURCE = "freeze-source";
  static final String SNAPSHOT = "snapshot";
  static final String RESTORE = "restore";
  static final String START_SYNC = "start-sync";
  static final String CATCH_UP = "catch-up";
  static final String GATE_CUTOVER = gate(Gates.CUTOVER);
  static final String DRAIN = "drain";
  static final String VERIFY = "verify";
  static final String SYNC_SEQUENCES = "sync-sequences";
  static final String DISCARD_SNAPSHOT = "discard-snapshot";
  static final String UNFREEZE_SOURCE = "unfreeze-source";
  static final String FALLBACK_WINDOW = "fallback-window";
  static final String GATE_DECOMMISSION = gate(Gates.DECOMMISSION);
  static final String DECOMMISSION = "decommission";
  /** Shown only when something fails past the point of no return. */
  static final String GATE_ROLLBACK = gate(Gates.ROLLBACK);

  static final List<String> SINGLE_PHASE =
      List.of(
          PREFLIGHT,
          GATE_START,
          FREEZE_SOURCE,
          SNAPSHOT,
          RESTORE,
          VERIFY,
          SYNC_SEQUENCES,
          DISCARD_SNAPSHOT,
          UNFREEZE_SOURCE,
          GATE_DECOMMISSION,
          DECOMMISSION);

  static final List<String> MULTI_PHASE =
      List.of(
          PREFLIGHT,
          GATE_START,
          START_SYNC,
          CATCH_UP,
          GATE_CUTOVER,
          FREEZE_SOURCE,
          DRAIN,
          SYNC_SEQUENCES,
          VERIFY,
          UNFREEZE_SOURCE,
          FALLBACK_WINDOW,
          GATE_DECOMMISSION,
          DECOMMISSION);

  static List<String> of(Strategy strategy) {
    return strategy == Strategy.MULTI_PHASE ? MULTI_PHASE : SINGLE_PHASE;
  }

  /**
   * Why the runbook makes the run skip this step, or {@code null} when it runs. The workflow and
   * the plan both ask here, so a plan shows what a run does.
   */
  static String skipReason(Runbook runbook, String step) {
    return switch (step) {
      case UNFREEZE_SOURCE ->
          "Ferry does not move the traffic (the runbook has no dns section): the source stays read-only so"
              + " nothing writes to it after the cutover; rejecting gate decommission unfreezes it";
      case DECOMMISSION ->
          runbook.strategy() == Strategy.MULTI_PHASE
              ? null
              : "nothing to shut down: the runbook names no Heroku app to scale down";
      default -> null;
    };
  }

  /** What a step does, in a phrase, for plans. */
  static String purpose(String step) {
    return switch (step) {
      case PREFLIGHT -> "checks both databases, versions, extensions and the source's traps; changes nothing";
      case FREEZE_SOURCE -> "makes the source database read-only and ends its open sessions";
      case SNAPSHOT -> "pg_dump -Fd -j N of the source onto a worker's disk";
      case RESTORE -> "pg_restore -j N --exit-on-error into the empty target";
      case START_SYNC -> "installs change capture, copies the schema and the data consistently with it";
      case CATCH_UP -> "applies changes until the target is less than sync.maxLag behind";
      case DRAIN -> "with the source frozen, applies what is left until nothing is pending";
      case VERIFY -> "row counts and checksums in primary-key chunks, sequences and schema, both sides";
      case SYNC_SEQUENCES -> "sets the target's sequences to the source's values";
      case DISCARD_SNAPSHOT -> "deletes the dump files, which hold production data";
      case UNFREEZE_SOURCE -> "makes the source writable again";
      case FALLBACK_WINDOW -> "waits the runbook's fallbackWindow with the way back open";
      case DECOMMISSION -> "tears down what the migration left on Heroku's side";
      default -> step;
    };
  }

  static String gate(String name) {
    return "gate:" + name;
  }

  private Steps() {}
}

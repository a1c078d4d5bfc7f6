package dev.ferry.workflow;

import dev.ferry.model.runbook.Gates;
import java.util.List;

/** Step names, as the status shows them, and each strategy's plan. */
final class Steps {
  static final String PREFLIGHT = "preflight";
  static final String GATE_START = gate(Gates.START);
  static final String FREEZE_SOURCE = "freeze-source";
  static final String SNAPSHOT = "snapshot";
  static final String RESTORE = "restore";
  static final String VERIFY = "verify";
  static final String SYNC_SEQUENCES = "sync-sequences";
  static final String UNFREEZE_SOURCE = "unfreeze-source";
  static final String DISCARD_SNAPSHOT = "discard-snapshot";

  static final List<String> SINGLE_PHASE =
      List.of(
          PREFLIGHT,
          GATE_START,
          FREEZE_SOURCE,
          SNAPSHOT,
          RESTORE,
          VERIFY,
          SYNC_SEQUENCES,
          UNFREEZE_SOURCE,
          DISCARD_SNAPSHOT);

  /** What a step does, in a phrase, for plans. */
  static String purpose(String step) {
    return switch (step) {
      case PREFLIGHT -> "checks both databases, versions, extensions and the source's traps; changes nothing";
      case FREEZE_SOURCE -> "makes the source database read-only and ends its open sessions";
      case SNAPSHOT -> "pg_dump -Fd -j N of the source onto a worker's disk";
      case RESTORE -> "pg_restore -j N --exit-on-error into the empty target";
      case VERIFY -> "row counts and checksums in primary-key chunks, sequences and schema, both sides";
      case SYNC_SEQUENCES -> "sets the target's sequences to the source's values";
      case UNFREEZE_SOURCE -> "makes the source writable again";
      case DISCARD_SNAPSHOT -> "deletes the dump files, which hold production data";
      default -> step;
    };
  }

  static String gate(String name) {
    return "gate:" + name;
  }

  private Steps() {}
}

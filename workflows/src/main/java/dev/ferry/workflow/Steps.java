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

  static String gate(String name) {
    return "gate:" + name;
  }

  private Steps() {}
}

package dev.ferry.activities.sweep;

import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a run still owns what it installed, decided once per sweep from the ledger and
 * Temporal: {@code ENDED} when the ledger shows it ended, or shows it open while Temporal has no
 * running workflow of that id; {@code RUNNING} when Temporal runs it or cannot say; {@code
 * UNKNOWN} when the ledger has no such run.
 */
final class RunVerdicts {
  private static final Logger log = LoggerFactory.getLogger(RunVerdicts.class);

  enum Verdict {
    RUNNING,
    ENDED,
    UNKNOWN
  }

  record Owner(Verdict verdict, String why) {}

  private final SweepLedger ledger;
  private final Sweeper.RunningCheck running;
  private final Map<String, Owner> known = new HashMap<>();

  RunVerdicts(SweepLedger ledger, Sweeper.RunningCheck running) {
    this.ledger = ledger;
    this.running = running;
  }

  Owner of(String run) {
    return known.computeIfAbsent(run, this::decide);
  }

  private Owner decide(String id) {
    SweepLedger.Run run;
    try {
      run = ledger.run(id).orElse(null);
    } catch (RuntimeException e) {
      return new Owner(Verdict.RUNNING, "kept: " + e.getMessage());
    }
    if (run == null) {
      return new Owner(Verdict.UNKNOWN, "run " + id + " is not in the ledger");
    }
    if (run.ended()) {
      return new Owner(Verdict.ENDED, "run " + id + " ended (" + run.state() + " in the ledger)");
    }
    try {
      if (running.isRunning(id)) {
        return new Owner(Verdict.RUNNING, "run " + id + " is running");
      }
    } catch (RuntimeException e) {
      log.info("sweep: keeping what run {} owns: Temporal cannot say whether it runs ({})", id, e.getMessage());
      return new Owner(Verdict.RUNNING, "Temporal cannot say whether run " + id + " runs");
    }
    return new Owner(
        Verdict.ENDED,
        "run " + id + " is " + run.state() + " in the ledger, but Temporal has no running workflow of that id"
            + " (its worker or server stopped with it)");
  }
}

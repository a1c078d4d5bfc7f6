package dev.ferry.workflow;

import dev.ferry.model.runbook.DnsSpec;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.Strategy;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.runbook.TrafficStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The cutover's write-downtime, from what a rehearsal measured: from the moment the source
 * refuses writes to the moment every client writes to the target.
 *
 * <ul>
 *   <li><b>single-phase</b>: freeze + snapshot + restore + verify + sequence sync (all measured:
 *       the rehearsal did each on the whole database) + the traffic move.
 *   <li><b>multi-phase</b>: freeze + drain + sequence sync + final verify (measured) + the traffic
 *       move. The drain is not measured (a rehearsal runs no sync): it is taken as {@code
 *       sync.maxLag}, the most the target may be behind when the cutover gate opens. Draining
 *       that backlog takes at most as long as it took to pile up as long as the apply loop
 *       outpaces the source's writes, which catching up under {@code maxLag} already required.
 * </ul>
 *
 * The freeze is measured by a probe that does the freeze's round trips without freezing. The
 * traffic move, when the runbook has {@code dns}, is assumed, not measured (a rehearsal never
 * touches DNS): {@link #ROUTE53_CHANGE} per weight change, every step's dwell but the last (the
 * frozen source refuses the writes of the traffic still sent to it), and the lowered TTL for
 * clients to let go of the old answer. Without {@code dns} people move the traffic: not counted.
 */
final class RehearsalEstimate {
  /** How long a Route 53 change takes to be INSYNC, typically: an assumption, said so in the basis. */
  static final Duration ROUTE53_CHANGE = Duration.ofSeconds(60);

  /** What the rehearsal measured, each {@code null} when that phase did not finish. */
  record Measured(Duration freeze, Duration snapshot, Duration restore, Duration verify, Duration sequences) {}

  /** The estimate and, term by term, how it was made. */
  record Estimate(Duration total, String basis) {}

  private final List<String> terms = new ArrayList<>();
  private Duration total = Duration.ZERO;

  private RehearsalEstimate() {}

  /** The estimate, or {@code null} when a phase it needs was not measured. */
  static Estimate of(Runbook runbook, Measured m) {
    boolean multi = runbook.strategy() == Strategy.MULTI_PHASE;
    if (m.freeze() == null || m.verify() == null || m.sequences() == null
        || (!multi && (m.snapshot() == null || m.restore() == null))) {
      return null;
    }
    RehearsalEstimate e = new RehearsalEstimate();
    e.add("freeze", m.freeze(), "measured: the freeze probe's round trips to the source");
    if (multi) {
      SyncSpec sync = runbook.sync();
      Duration maxLag = sync == null || sync.maxLag() == null ? SyncSpec.DEFAULT_MAX_LAG : sync.maxLag();
      e.add("drain", maxLag, "model: at most sync.maxLag of backlog, applied at least as fast as it piled up");
      e.add("sequence sync", m.sequences(), "measured");
      e.add("final verify", m.verify(), "measured on the whole database");
    } else {
      e.add("snapshot", m.snapshot(), "measured");
      e.add("restore", m.restore(), "measured");
      e.add("verify", m.verify(), "measured on the whole database");
      e.add("sequence sync", m.sequences(), "measured");
    }
    DnsSpec dns = runbook.dns();
    if (dns == null) {
      e.terms.add("traffic: not counted (no dns section: people point the app at the target)");
    } else {
      List<TrafficStep> steps = dns.steps() == null || dns.steps().isEmpty() ? DnsSpec.DEFAULT_STEPS : dns.steps();
      Duration dwells = Duration.ZERO;
      for (int i = 0; i < steps.size() - 1; i++) {
        dwells = dwells.plus(steps.get(i).dwell());
      }
      Duration ttl = dns.lowerTtlTo() == null ? DnsSpec.DEFAULT_LOWER_TTL_TO : dns.lowerTtlTo();
      e.add(
          "traffic",
          ROUTE53_CHANGE.multipliedBy(steps.size()).plus(dwells).plus(ttl),
          "assumed: " + steps.size() + " Route 53 change(s) of ~" + ROUTE53_CHANGE.toSeconds() + " s, the dwells before the last step ("
              + dwells.toSeconds() + " s) and the lowered TTL (" + ttl.toSeconds() + " s)");
    }
    return new Estimate(e.total, (multi ? "multi-phase: " : "single-phase: ") + String.join(" + ", e.terms));
  }

  private void add(String term, Duration d, String how) {
    total = total.plus(d);
    terms.add(term + " " + seconds(d) + " (" + how + ")");
  }

  static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }
}

package dev.ferry.workflow;

import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalTrend;
import dev.ferry.model.runbook.RehearsalsSpec;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.TemporalFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The cutover budget learned from rehearsals (runbook section {@code rehearsals}): what the gate
 * before the write downtime shows of recent rehearsals, and why it refuses approval, if it does.
 *
 * <p>It refuses when no rehearsal of the app has run, when the latest one that ran failed, is
 * older than {@code maxAge}, or estimated more downtime than {@code maxDowntime}. An approver may
 * override with a comment that starts with {@link #OVERRIDE_PREFIX} and says why; the decision
 * keeps the comment, and the ledger records the override.
 */
final class CutoverBudget {
  /** Added after runs without a budget existed; only runbooks with {@code rehearsals} reach it. */
  static final String VERSION = "cutover-budget";
  /** How many recent reports the trend covers. */
  static final int RECENT = 10;
  static final String OVERRIDE_PREFIX = "override:";

  /**
   * @param evidence lines for the gate
   * @param refusal why approval is refused without an override, or {@code null}
   */
  record Verdict(List<String> evidence, String refusal) {}

  private CutoverBudget() {}

  /** Reads the app's recent reports through the ledger and judges them. */
  static Verdict check(Migration m) {
    RehearsalsSpec spec = m.runbook.rehearsals();
    RehearsalLedgerActivities reports = m.stub(RehearsalLedgerActivities.class, ActivityCatalog.ledgerRead());
    List<RehearsalReport> recent;
    try {
      recent = reports.recentRehearsals(m.runbook.app(), RECENT);
    } catch (TemporalFailure e) {
      String why = "the rehearsal reports could not be read from the ledger: " + Failures.describe(e);
      return new Verdict(List.of("cutover budget: " + why, refusedLine(why)), why);
    }
    return judge(m.runbook.app(), spec, recent, Migration.now());
  }

  /** Pure: the gate's budget lines and refusal, from the reports (any order) and the time. */
  static Verdict judge(String app, RehearsalsSpec spec, List<RehearsalReport> reports, Instant now) {
    List<RehearsalReport> ran =
        reports.stream()
            .filter(r -> r.skipped() == null)
            .sorted(Comparator.comparing(RehearsalReport::startedAt).reversed())
            .toList();
    Duration maxAge = spec.maxAge() == null ? RehearsalsSpec.DEFAULT_MAX_AGE : spec.maxAge();
    List<String> evidence = new ArrayList<>();
    RehearsalTrend trend = RehearsalTrend.of(ran);
    evidence.add(
        "cutover budget: " + (spec.maxDowntime() == null ? "no downtime limit" : "at most " + show(spec.maxDowntime()) + " of downtime")
            + ", latest rehearsal at most " + show(maxAge) + " old");
    if (ran.isEmpty()) {
      String why = "no rehearsal of " + app + " has run: rehearse first (ferry rehearse RUNBOOK)";
      evidence.add(refusedLine(why));
      return new Verdict(evidence, why);
    }
    evidence.add(
        "rehearsals: estimated downtime median " + show(trend.medianDowntime()) + ", worst " + show(trend.worstDowntime())
            + " over the last " + trend.considered() + " that ran (" + trend.succeeded() + " succeeded)");
    RehearsalReport latest = ran.get(0);
    Instant at = latest.finishedAt() != null ? latest.finishedAt() : latest.startedAt();
    Duration age = Duration.between(at, now);
    // Times, not ages: the evidence (and its digest) changes when the reports do, not as time passes.
    evidence.add(
        "latest rehearsal " + latest.rehearsalId() + " " + latest.outcome() + " at " + at
            + (latest.estimatedDowntime() == null ? "" : ", estimated downtime " + show(latest.estimatedDowntime())));
    String why = null;
    if (!latest.succeeded()) {
      why = "the latest rehearsal " + latest.rehearsalId() + " failed"
          + (latest.errors() == null || latest.errors().isEmpty() ? "" : ": " + latest.errors().get(0));
    } else if (age.compareTo(maxAge) > 0) {
      why = "the latest rehearsal " + latest.rehearsalId() + " ended at " + at + ", more than the runbook's maxAge of "
          + show(maxAge) + " ago";
    } else if (spec.maxDowntime() != null && latest.estimatedDowntime() == null) {
      why = "the latest rehearsal " + latest.rehearsalId() + " has no downtime estimate to hold against the budget";
    } else if (spec.maxDowntime() != null && latest.estimatedDowntime().compareTo(spec.maxDowntime()) > 0) {
      why = "the latest rehearsal " + latest.rehearsalId() + " estimated " + show(latest.estimatedDowntime())
          + " of downtime; the budget is " + show(spec.maxDowntime());
    }
    if (why != null) {
      evidence.add(refusedLine(why));
    }
    return new Verdict(evidence, why);
  }

  /** Whether a decision's comment overrides the budget: {@code override: <why>}. */
  static boolean isOverride(String comment) {
    if (comment == null) {
      return false;
    }
    String c = comment.trim();
    return c.regionMatches(true, 0, OVERRIDE_PREFIX, 0, OVERRIDE_PREFIX.length())
        && !c.substring(OVERRIDE_PREFIX.length()).isBlank();
  }

  private static String refusedLine(String why) {
    return "OVER BUDGET: approval is refused (" + why + "); an approver may override with a comment starting \""
        + OVERRIDE_PREFIX + "\" that says why";
  }

  static String show(Duration d) {
    if (d == null) {
      return "-";
    }
    if (d.compareTo(Duration.ofMinutes(1)) < 0) {
      return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
    if (d.compareTo(Duration.ofHours(1)) < 0) {
      return d.toMinutes() + " min " + d.toSecondsPart() + " s";
    }
    if (d.compareTo(Duration.ofDays(2)) < 0) {
      return d.toHours() + " h " + d.toMinutesPart() + " min";
    }
    return d.toDays() + " d " + d.toHoursPart() + " h";
  }
}

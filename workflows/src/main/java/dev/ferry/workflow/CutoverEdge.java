package dev.ferry.workflow;

import dev.ferry.activity.ConfigVarActivities;
import dev.ferry.activity.DnsActivities;
import dev.ferry.activity.HerokuActivities;
import dev.ferry.activity.RdsActivities;
import dev.ferry.activity.SmokeCheckActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.aws.RestorePointRequest;
import dev.ferry.model.config.ConfigVarCopy;
import dev.ferry.model.config.ConfigVarsCopied;
import dev.ferry.model.config.ConfigVarsVerified;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import dev.ferry.model.heroku.Formation;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.model.heroku.MaintenanceChange;
import dev.ferry.model.runbook.DnsSpec;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.TrafficStep;
import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeVerdict;
import dev.ferry.options.ActivityCatalog;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The steps at the edge of the cutover, each run only when the runbook configures its provider
 * (and shown skipped otherwise): DNS TTL and traffic shift (Route 53), maintenance mode and
 * dynos (Heroku), config vars (SSM), the restore point (RDS).
 */
final class CutoverEdge {
  private final Migration m;
  private final Runbook runbook;
  private final DnsActivities dns;
  private final DnsActivities dnsRead;
  private final HerokuActivities heroku;
  private final ConfigVarActivities configVars;
  private final RdsActivities rds;
  /** The records as found before Ferry touched them: what a rollback puts back. */
  private DnsRecords found;
  private MaintenanceChange maintenance;

  CutoverEdge(Migration m) {
    this.m = m;
    this.runbook = m.runbook;
    dns = m.stub(DnsActivities.class, ActivityCatalog.dnsChange());
    dnsRead = m.stub(DnsActivities.class, ActivityCatalog.dnsRead());
    heroku = m.stub(HerokuActivities.class, ActivityCatalog.herokuApi());
    configVars = m.stub(ConfigVarActivities.class, ActivityCatalog.configVars());
    rds = m.stub(RdsActivities.class, ActivityCatalog.rdsSnapshot());
  }

  /**
   * Lowers the records' TTL and waits out the old one on a durable timer, before the downtime
   * starts, so no resolver still caches the old answer when the weights move.
   */
  void lowerDnsTtl() {
    if (skipped(Steps.LOWER_DNS_TTL)) {
      return;
    }
    DnsSpec spec = runbook.dns();
    TrafficRecords records = spec.records();
    found = dnsRead.readRecords(records);
    DnsRecords before = found;
    m.compensations.register(
        Steps.LOWER_DNS_TTL,
        key -> {
          dns.restoreRecords(records, before);
          return "records back as found: " + before.describe();
        });
    m.step(
        Steps.LOWER_DNS_TTL,
        () -> {
          dns.lowerTtl(records, spec.lowerTtlTo());
          Duration old = before.longestTtl();
          Workflow.sleep(old);
          return old;
        },
        old -> "TTL " + GateKeeper.format(spec.lowerTtlTo()) + "; waited out the old TTL of " + GateKeeper.format(old));
  }

  /** Heroku's maintenance mode, with the source's freeze; undone by its compensation. */
  void maintenanceOn() {
    if (skipped(Steps.MAINTENANCE_ON)) {
      return;
    }
    HerokuApp app = herokuApp();
    m.compensations.register(
        Steps.MAINTENANCE_ON,
        key -> {
          boolean back = maintenance == null ? false : maintenance.before();
          heroku.setMaintenance(app, back);
          return "maintenance mode " + (back ? "on" : "off") + " again, as it was";
        });
    maintenance =
        m.step(Steps.MAINTENANCE_ON, () -> heroku.setMaintenance(app, true), c -> "maintenance mode on (was " + (c.before() ? "on" : "off") + ")");
  }

  /** After the traffic moved: Heroku serves again (stale DNS answers reach it; the frozen source refuses its writes). */
  void maintenanceOff() {
    if (skipped(Steps.MAINTENANCE_OFF)) {
      return;
    }
    HerokuApp app = herokuApp();
    boolean back = maintenance.before();
    m.step(Steps.MAINTENANCE_OFF, () -> heroku.setMaintenance(app, back), c -> "maintenance mode " + (back ? "on" : "off") + ", as before the run");
    m.compensations.discharge(Steps.MAINTENANCE_ON);
  }

  /** Copies the config vars to SSM and checks that every key arrived, before traffic moves. */
  void copyConfigVars() {
    if (skipped(Steps.COPY_CONFIG_VARS)) {
      return;
    }
    ConfigVarCopy copy =
        new ConfigVarCopy(herokuApp(), runbook.configVars().ssmPrefix(), runbook.configVars().skip(), runbook.configVars().rewrite());
    m.step(
        Steps.COPY_CONFIG_VARS,
        () -> {
          ConfigVarsCopied copied = configVars.copyConfigVarsToSsm(copy);
          ConfigVarsVerified verified = configVars.verifyConfigVarsInSsm(copy);
          if (!verified.complete()) {
            throw ApplicationFailure.newNonRetryableFailure(verified.summary(), Errors.CONFIG_VARS_MISMATCH);
          }
          return copied.copied() + " config vars under " + copied.ssmPrefix() + " (" + copied.rewritten().size()
              + " rewritten, " + copied.skipped().size() + " skipped); all " + verified.expected() + " checked";
        },
        s -> s);
  }

  /** A manual RDS snapshot right before the traffic moves. */
  void restorePoint() {
    if (skipped(Steps.RESTORE_POINT)) {
      return;
    }
    m.step(
        Steps.RESTORE_POINT,
        () -> rds.createRestorePoint(RestorePointRequest.forRun(runbook.rds().instanceId(), m.runId())),
        p -> "snapshot " + p.snapshotId() + " available");
  }

  /**
   * Moves traffic to AWS in the runbook's steps, smoke-checking each over its dwell. A failed
   * check puts every record back (all traffic to Heroku) at once, then fails the run. The first
   * weight above zero is the point of no return: from then on the target takes writes.
   */
  void shiftTraffic() {
    if (skipped(Steps.SHIFT_TRAFFIC)) {
      return;
    }
    DnsSpec spec = runbook.dns();
    TrafficRecords records = spec.records();
    SmokeCheckActivities smoke =
        m.stub(SmokeCheckActivities.class, ActivityCatalog.smokeChecks(longestDwell(spec)));
    m.step(
        Steps.SHIFT_TRAFFIC,
        () -> {
          List<String> done = new ArrayList<>();
          for (TrafficStep step : spec.steps()) {
            if (step.awsWeight() > 0) {
              m.markPointOfNoReturn("traffic started moving to AWS (" + step.awsWeight() + " %)");
            }
            dns.setWeights(records, step.awsWeight(), spec.lowerTtlTo());
            SmokeVerdict verdict = smoke.runSmokeChecks(new SmokeCheckRequest(spec.smokeChecks(), step.dwell(), spec.maxErrorRate()));
            if (!verdict.passed()) {
              dns.restoreRecords(records, found);
              throw ApplicationFailure.newNonRetryableFailure(
                  "smoke checks failed at " + step.awsWeight() + " % to AWS: " + verdict.summary()
                      + "; all traffic is back on Heroku",
                  Errors.SMOKE_CHECKS_FAILED);
            }
            done.add(step.awsWeight() + " % (" + verdict.summary() + ")");
          }
          return String.join(" → ", done);
        },
        s -> s);
  }

  /** Decommission's share: the long TTL back on the AWS record, Heroku's dynos to zero. */
  List<String> decommission() {
    List<String> done = new ArrayList<>();
    if (runbook.dns() != null) {
      DnsSpec spec = runbook.dns();
      Duration ttl = found.longestTtl().compareTo(spec.lowerTtlTo()) > 0 ? found.longestTtl() : spec.lowerTtlTo();
      dns.setWeights(spec.records(), 100, ttl);
      m.compensations.discharge(Steps.LOWER_DNS_TTL);
      done.add("AWS record at 100 % with TTL " + GateKeeper.format(ttl));
    }
    if (runbook.heroku() != null && runbook.heroku().scaleDownAtDecommission()) {
      HerokuApp app = herokuApp();
      Formation formation = heroku.readFormation(app);
      m.compensations.register(
          Steps.DECOMMISSION,
          key -> {
            heroku.scaleFormation(app, formation.processes());
            return "Heroku dynos back to " + formation.dynos();
          });
      heroku.scaleFormation(app, formation.scaledToZero());
      done.add("Heroku's " + formation.dynos() + " dyno(s) scaled to zero");
    }
    return done;
  }

  /** What approving decommission does on the edge, for the gate's evidence. */
  List<String> decommissionPlan() {
    List<String> plan = new ArrayList<>();
    if (runbook.dns() != null) {
      plan.add("the AWS record keeps 100 % with a long TTL again; the way back through DNS closes");
    }
    if (runbook.heroku() != null && runbook.heroku().scaleDownAtDecommission()) {
      plan.add("Heroku's dynos are scaled to zero");
    }
    return plan;
  }

  boolean movesTraffic() {
    return runbook.dns() != null;
  }

  private boolean skipped(String step) {
    String reason = Steps.skipReason(runbook, step);
    if (reason != null) {
      m.skip(step, reason);
      return true;
    }
    return false;
  }

  private HerokuApp herokuApp() {
    return new HerokuApp(runbook.source().herokuApp(), runbook.heroku() == null ? null : runbook.heroku().apiToken());
  }

  private static Duration longestDwell(DnsSpec spec) {
    return spec.steps().stream().map(TrafficStep::dwell).max(Duration::compareTo).orElse(DnsSpec.DEFAULT_DWELL);
  }
}

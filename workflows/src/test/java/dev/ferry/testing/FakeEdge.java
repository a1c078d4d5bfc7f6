package dev.ferry.testing;

import dev.ferry.activity.ConfigVarActivities;
import dev.ferry.activity.DnsActivities;
import dev.ferry.activity.HerokuActivities;
import dev.ferry.activity.RdsActivities;
import dev.ferry.activity.SmokeCheckActivities;
import dev.ferry.model.aws.RestorePoint;
import dev.ferry.model.aws.RestorePointRequest;
import dev.ferry.model.config.ConfigVarCopy;
import dev.ferry.model.config.ConfigVarsCopied;
import dev.ferry.model.config.ConfigVarsVerified;
import dev.ferry.model.dns.DnsChange;
import dev.ferry.model.dns.DnsRecord;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import dev.ferry.model.heroku.DynoQuantity;
import dev.ferry.model.heroku.Formation;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.model.heroku.MaintenanceChange;
import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeVerdict;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Test stand-in for the cutover edge's activities (Route 53, smoke checks, Heroku, SSM, RDS) in
 * workflow tests: records each call in the order of {@link FakeDatabases#calls()}, and fails the
 * smoke checks from a given AWS weight on when a test says so.
 */
public class FakeEdge
    implements DnsActivities, SmokeCheckActivities, HerokuActivities, ConfigVarActivities, RdsActivities {
  /** The records before Ferry: a simple CNAME to Heroku, cached for an hour. */
  public static final DnsRecords FOUND =
      new DnsRecords("shop.example.com.", "CNAME", List.of(DnsRecord.simple(Duration.ofHours(1), List.of("shop.herokudns.com"))));

  private final FakeDatabases calls;
  /** Smoke checks fail once this much traffic goes to AWS (101: never). */
  public volatile int smokeFailsFromWeight = 101;
  public volatile boolean configVarsIncomplete;
  private volatile int weight;

  public FakeEdge(FakeDatabases calls) {
    this.calls = calls;
  }

  @Override
  public DnsRecords readRecords(TrafficRecords records) {
    calls.called("readRecords");
    return FOUND;
  }

  @Override
  public DnsChange lowerTtl(TrafficRecords records, Duration ttl) {
    calls.called("lowerTtl " + ttl.toSeconds());
    return new DnsChange("C1", 0, FOUND);
  }

  @Override
  public DnsChange setWeights(TrafficRecords records, int awsWeight, Duration ttl) {
    calls.called("setWeights " + awsWeight);
    weight = awsWeight;
    return new DnsChange("C2", 0, FOUND);
  }

  @Override
  public DnsChange restoreRecords(TrafficRecords records, DnsRecords found) {
    calls.called("restoreRecords");
    weight = 0;
    return new DnsChange("C3", 0, found);
  }

  @Override
  public SmokeVerdict runSmokeChecks(SmokeCheckRequest request) {
    calls.called("runSmokeChecks");
    boolean passed = weight < smokeFailsFromWeight;
    return new SmokeVerdict(
        passed,
        passed ? "30 requests, 0 errors" : "30 requests, 9 errors (30 %): 503 from https://shop.example.com/health",
        3, !passed, 30, passed ? 0 : 9, passed ? 0 : 0.3, Duration.ofMillis(80), Duration.ofMillis(120), List.of());
  }

  @Override
  public MaintenanceChange setMaintenance(HerokuApp app, boolean on) {
    calls.called("setMaintenance " + on);
    return new MaintenanceChange(app.app(), false, on);
  }

  @Override
  public Formation readFormation(HerokuApp app) {
    calls.called("readFormation");
    return new Formation(app.app(), List.of(new DynoQuantity("web", 3, "standard-2x"), new DynoQuantity("worker", 1, "standard-1x")));
  }

  @Override
  public Formation scaleFormation(HerokuApp app, List<DynoQuantity> quantities) {
    calls.called("scaleFormation " + quantities.stream().mapToInt(DynoQuantity::quantity).sum());
    return new Formation(app.app(), quantities);
  }

  @Override
  public ConfigVarsCopied copyConfigVarsToSsm(ConfigVarCopy copy) {
    calls.called("copyConfigVarsToSsm");
    return new ConfigVarsCopied(copy.ssmPrefix(), 12, List.of(), List.of(), List.of("DATABASE_URL"), List.of(), List.of());
  }

  @Override
  public ConfigVarsVerified verifyConfigVarsInSsm(ConfigVarCopy copy) {
    calls.called("verifyConfigVarsInSsm");
    return configVarsIncomplete
        ? new ConfigVarsVerified(copy.ssmPrefix(), false, 12, List.of("STRIPE_KEY"), List.of(), List.of(), List.of())
        : new ConfigVarsVerified(copy.ssmPrefix(), true, 12, List.of(), List.of(), List.of(), List.of());
  }

  @Override
  public RestorePoint createRestorePoint(RestorePointRequest request) {
    calls.called("createRestorePoint");
    return new RestorePoint(request.snapshotId(), request.instanceId(), "available", 100, Instant.EPOCH, 20, 1);
  }
}

package dev.ferry.activities;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.aws.DnsActivitiesImpl;
import dev.ferry.activities.http.SmokeCheckActivitiesImpl;
import dev.ferry.activity.DnsActivities;
import dev.ferry.activity.SmokeCheckActivities;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import dev.ferry.model.runbook.DnsSpec;
import dev.ferry.model.runbook.SmokeCheckSpec;
import dev.ferry.model.runbook.TrafficStep;
import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeVerdict;
import dev.ferry.options.ActivityCatalog;
import dev.ferry.testing.RecordingPause;
import dev.ferry.testing.aws.FakeRoute53;
import dev.ferry.testing.aws.FakeRoute53.RecordSet;
import dev.ferry.testing.http.FakeApp;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.TemporalFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The DNS choreography the DnsActivities contract asks of the workflow, run as a small workflow
 * under Temporal's time-skipping test server with the real activities against the Route 53
 * stand-in and a local app: the old TTL is waited out on a durable timer, weights move in steps
 * with smoke checks between them, and a failed check puts 100 % of traffic back on Heroku.
 */
class CutoverChoreographyTest {
  static final String QUEUE = "cutover-test";
  static final String ZONE = "Z0FERRYTEST";
  static final String NAME = "www.shop.example.com";
  static final String HEROKU = "shop-production.herokudns.com";
  static final String AWS = "shop-alb-1.eu-west-1.elb.amazonaws.com";

  /** What the shift did. */
  public record ShiftOutcome(boolean completed, List<Integer> weightsApplied, long waitedSeconds, String verdict) {}

  @WorkflowInterface
  public interface TrafficShift {
    @WorkflowMethod
    ShiftOutcome shift(DnsSpec dns);
  }

  /** The loop as the DnsActivities javadoc describes it. */
  public static class TrafficShiftImpl implements TrafficShift {
    private final DnsActivities read = Workflow.newActivityStub(DnsActivities.class, ActivityCatalog.dnsRead());
    private final DnsActivities change = Workflow.newActivityStub(DnsActivities.class, ActivityCatalog.dnsChange());

    @Override
    public ShiftOutcome shift(DnsSpec dns) {
      TrafficRecords records = dns.records();
      DnsRecords found = read.readRecords(records);
      List<Integer> applied = new java.util.ArrayList<>();
      try {
        change.lowerTtl(records, dns.lowerTtlTo());
        long before = Workflow.currentTimeMillis();
        if (!found.longestTtl().isZero()) {
          Workflow.sleep(found.longestTtl());
        }
        long waited = (Workflow.currentTimeMillis() - before) / 1000;
        for (TrafficStep step : dns.steps()) {
          change.setWeights(records, step.awsWeight(), dns.lowerTtlTo());
          applied.add(step.awsWeight());
          SmokeCheckActivities smoke =
              Workflow.newActivityStub(SmokeCheckActivities.class, ActivityCatalog.smokeChecks(step.dwell()));
          SmokeVerdict verdict = smoke.runSmokeChecks(new SmokeCheckRequest(dns.smokeChecks(), step.dwell(), dns.maxErrorRate()));
          if (!verdict.passed()) {
            change.restoreRecords(records, found);
            return new ShiftOutcome(false, applied, waited, verdict.summary());
          }
        }
        return new ShiftOutcome(true, applied, waited, "all steps passed");
      } catch (TemporalFailure e) {
        Workflow.newDetachedCancellationScope(() -> change.restoreRecords(records, found)).run();
        throw e;
      }
    }
  }

  FakeRoute53 route53;
  FakeApp app;
  TestWorkflowEnvironment env;

  @BeforeEach
  void start() throws Exception {
    route53 = new FakeRoute53().put(ZONE, RecordSet.simple(NAME, "CNAME", 3600, HEROKU)).pendingAnswers(2);
    app = new FakeApp();
    env = TestWorkflowEnvironment.newInstance();
    Worker worker = env.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(TrafficShiftImpl.class);
    RecordingPause pause = new RecordingPause();
    worker.registerActivitiesImplementations(
        new DnsActivitiesImpl(route53::client, pause, Duration.ofSeconds(5)),
        new SmokeCheckActivitiesImpl(SmokeCheckActivitiesImpl.httpClient(), Duration.ofSeconds(5), pause, System::nanoTime));
    env.start();
  }

  @AfterEach
  void stop() {
    env.close();
    app.close();
    route53.close();
  }

  @Test
  void healthyShift_waitsOutTheOldTtl_thenEndsWithAllTrafficOnAws() {
    app.answer("/health", 200);

    ShiftOutcome outcome = shift();

    assertThat(outcome.completed()).isTrue();
    assertThat(outcome.weightsApplied()).containsExactly(10, 50, 100);
    assertThat(outcome.waitedSeconds()).isGreaterThanOrEqualTo(3600);
    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(
            RecordSet.weighted(NAME, "CNAME", "aws", 100, 60, AWS),
            RecordSet.weighted(NAME, "CNAME", "heroku", 0, 60, HEROKU));
    // Two rounds of checks per 10 s dwell at a 5 s interval.
    assertThat(app.hits("/health")).isEqualTo(6);
  }

  @Test
  void aFailedHealthCheckMidShift_rollsTrafficBackToHeroku() {
    // Step 10 % sees two healthy answers; at 50 % the app starts failing.
    app.answer("/health", 200, 200, 503);

    ShiftOutcome outcome = shift();

    assertThat(outcome.completed()).isFalse();
    assertThat(outcome.weightsApplied()).containsExactly(10, 50);
    assertThat(outcome.verdict()).startsWith("failed:").contains("status 503");
    assertThat(route53.records(ZONE, NAME, "CNAME")).containsExactly(RecordSet.simple(NAME, "CNAME", 3600, HEROKU));
    assertThat(route53.batches())
        .extracting(FakeRoute53.AppliedBatch::actions)
        .containsExactly(
            List.of("UPSERT simple"),
            List.of("DELETE simple", "UPSERT heroku", "UPSERT aws"),
            List.of("UPSERT heroku", "UPSERT aws"),
            List.of("DELETE aws", "DELETE heroku", "UPSERT simple"));
  }

  private ShiftOutcome shift() {
    DnsSpec dns =
        new DnsSpec(
            ZONE,
            NAME,
            "CNAME",
            HEROKU,
            AWS,
            DnsSpec.SetIdentifiers.DEFAULT,
            Duration.ofSeconds(60),
            List.of(
                new TrafficStep(10, Duration.ofSeconds(10)),
                new TrafficStep(50, Duration.ofSeconds(10)),
                new TrafficStep(100, Duration.ofSeconds(10))),
            List.of(new SmokeCheckSpec(app.url("/health"), 200, Duration.ofSeconds(2))),
            0.01);
    return env.getWorkflowClient()
        .newWorkflowStub(TrafficShift.class, WorkflowOptions.newBuilder().setTaskQueue(QUEUE).build())
        .shift(dns);
  }
}

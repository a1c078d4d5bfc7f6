package dev.ferry.activities.aws;

import static dev.ferry.testing.ActivityFailures.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activity.DnsActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.dns.DnsChange;
import dev.ferry.model.dns.DnsRecord;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import dev.ferry.testing.RecordingPause;
import dev.ferry.testing.aws.FakeRoute53;
import dev.ferry.testing.aws.FakeRoute53.RecordSet;
import io.temporal.activity.ActivityOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DnsActivitiesTest {
  static final String ZONE = "Z0FERRYTEST";
  static final String NAME = "www.shop.example.com";
  static final String HEROKU = "shop-production.herokudns.com";
  static final String AWS = "shop-alb-1.eu-west-1.elb.amazonaws.com";
  static final TrafficRecords RECORDS = new TrafficRecords(ZONE, NAME, "CNAME", "heroku", HEROKU, "aws", AWS);
  static final Duration LOW = Duration.ofSeconds(60);

  FakeRoute53 route53;
  RecordingPause pause = new RecordingPause();
  /**
   * Timeouts far above what these calls take: the environment's defaults cancelled a call of six
   * polls on a machine loaded by other builds.
   */
  static final ActivityOptions GENEROUS =
      ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(5)).setHeartbeatTimeout(Duration.ofMinutes(2)).build();

  TestActivityEnvironment env;
  DnsActivities dns;

  @BeforeEach
  void start() throws Exception {
    route53 =
        new FakeRoute53()
            .put(ZONE, RecordSet.simple(NAME, "CNAME", 3600, HEROKU))
            // Neighbours in Route 53's listing order, so the read must stop at the right name.
            .put(ZONE, RecordSet.simple("api.shop.example.com", "CNAME", 300, HEROKU))
            .put(ZONE, RecordSet.simple("shop.example.com", "A", 300, "203.0.113.10"))
            .put(ZONE, RecordSet.simple("www.shop.example.com", "TXT", 300, "\"v=spf1 -all\""));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new DnsActivitiesImpl(route53::client, pause, Duration.ofSeconds(5)));
    dns = env.newActivityStub(DnsActivities.class, GENEROUS);
  }

  @AfterEach
  void stop() {
    env.close();
    route53.close();
  }

  @Test
  void readRecords_findsTheHerokuCnameAndItsTtl() {
    DnsRecords found = dns.readRecords(RECORDS);

    assertThat(found.recordName()).isEqualTo("www.shop.example.com.");
    assertThat(found.records()).containsExactly(DnsRecord.simple(Duration.ofHours(1), List.of(HEROKU)));
    assertThat(found.longestTtl()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void readRecords_pagesThroughRoute53sListing() {
    route53.pageSize(1);
    dns.setWeights(RECORDS, 10, LOW);

    DnsRecords found = dns.readRecords(RECORDS);

    assertThat(found.records()).extracting(DnsRecord::setIdentifier).containsExactly("aws", "heroku");
  }

  @Test
  void lowerTtl_changesOnlyTheTtl_andReturnsOnceInsync() {
    route53.pendingAnswers(2);

    DnsChange change = dns.lowerTtl(RECORDS, LOW);

    assertThat(change.pendingPolls()).isEqualTo(2);
    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(RecordSet.simple(NAME, "CNAME", 60, HEROKU));
    assertThat(change.records().records()).containsExactly(DnsRecord.simple(LOW, List.of(HEROKU)));
    assertThat(pause.waits()).containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(5));
    assertThat(route53.records(ZONE, "api.shop.example.com", "CNAME")).extracting(RecordSet::ttl).containsExactly(300L);
  }

  @Test
  void lowerTtl_whenAlreadyLow_submitsNothing() {
    dns.lowerTtl(RECORDS, LOW);

    DnsChange again = dns.lowerTtl(RECORDS, Duration.ofSeconds(120));

    assertThat(again.changeId()).isNull();
    assertThat(route53.batches()).hasSize(1);
  }

  @Test
  void setWeights_replacesTheSimpleRecordWithTwoWeightedOnes_inOneAtomicBatch() {
    DnsChange change = dns.setWeights(RECORDS, 10, LOW);

    assertThat(route53.batches()).singleElement().satisfies(batch -> {
      assertThat(batch.actions()).containsExactly("DELETE simple", "UPSERT heroku", "UPSERT aws");
      assertThat(batch.comment()).contains("send 10 % of www.shop.example.com to AWS");
    });
    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(
            RecordSet.weighted(NAME, "CNAME", "aws", 10, 60, AWS),
            RecordSet.weighted(NAME, "CNAME", "heroku", 90, 60, HEROKU));
    assertThat(change.records().weightOf("aws")).isEqualTo(10L);
    assertThat(change.records().weightOf("heroku")).isEqualTo(90L);
  }

  @Test
  void insyncThatComesLate_isWaitedFor_withAHeartbeatPerPoll() {
    route53.pendingAnswers(6);

    DnsChange change = dns.setWeights(RECORDS, 10, LOW);

    assertThat(change.pendingPolls()).isEqualTo(6);
    assertThat(change.changeId()).isEqualTo(route53.batches().get(0).changeId());
    assertThat(route53.calls()).filteredOn(c -> c.startsWith("GET /2013-04-01/change/")).hasSize(7);
    assertThat(pause.waits()).hasSize(6);
  }

  @Test
  void stepsOfTheShift_moveOnlyTheWeights() {
    dns.setWeights(RECORDS, 10, LOW);
    dns.setWeights(RECORDS, 50, LOW);
    dns.setWeights(RECORDS, 100, LOW);

    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(
            RecordSet.weighted(NAME, "CNAME", "aws", 100, 60, AWS),
            RecordSet.weighted(NAME, "CNAME", "heroku", 0, 60, HEROKU));
    assertThat(route53.batches().get(1).actions()).containsExactly("UPSERT heroku", "UPSERT aws");
  }

  @Test
  void setWeights_isIdempotent() {
    dns.setWeights(RECORDS, 50, LOW);

    DnsChange again = dns.setWeights(RECORDS, 50, LOW);

    assertThat(again.changeId()).isNull();
    assertThat(route53.batches()).hasSize(1);
  }

  @Test
  void aRetryAfterACrash_waitsForTheChangeItsEarlierAttemptSubmitted() {
    route53.pendingAnswers(0);
    DnsChange first = dns.setWeights(RECORDS, 10, LOW);
    route53.pendingAnswers(3);

    env.setHeartbeatDetails(first.changeId());
    DnsChange retried = dns.setWeights(RECORDS, 10, LOW);

    assertThat(retried.changeId()).isEqualTo(first.changeId());
    assertThat(route53.batches()).hasSize(1);
  }

  @Test
  void restoreRecords_putsBackTheSimpleRecordWithItsTtl() {
    DnsRecords found = dns.readRecords(RECORDS);
    dns.lowerTtl(RECORDS, LOW);
    dns.setWeights(RECORDS, 50, LOW);

    DnsChange restored = dns.restoreRecords(RECORDS, found);

    assertThat(route53.batches().get(2).actions()).containsExactly("DELETE aws", "DELETE heroku", "UPSERT simple");
    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(RecordSet.simple(NAME, "CNAME", 3600, HEROKU));
    assertThat(restored.records()).isEqualTo(found);

    DnsChange again = dns.restoreRecords(RECORDS, found);
    assertThat(again.changeId()).isNull();
  }

  @Test
  void restoreRecords_putsBackWeightsFoundFromAnEarlierRun() {
    route53.put(ZONE, RecordSet.weighted(NAME, "CNAME", "heroku", 100, 300, HEROKU));
    route53.put(ZONE, RecordSet.weighted(NAME, "CNAME", "aws", 0, 300, AWS));
    removeSimple();
    DnsRecords found = dns.readRecords(RECORDS);
    dns.setWeights(RECORDS, 50, LOW);

    dns.restoreRecords(RECORDS, found);

    assertThat(route53.records(ZONE, NAME, "CNAME"))
        .containsExactly(
            RecordSet.weighted(NAME, "CNAME", "aws", 0, 300, AWS),
            RecordSet.weighted(NAME, "CNAME", "heroku", 100, 300, HEROKU));
  }

  @Test
  void aNameWithNoRecordYet_getsBothWeightedRecords_andRestoreRemovesThem() {
    TrafficRecords fresh = new TrafficRecords(ZONE, "new.shop.example.com", "CNAME", "heroku", HEROKU, "aws", AWS);
    DnsRecords found = dns.readRecords(fresh);
    assertThat(found.records()).isEmpty();
    assertThat(found.longestTtl()).isEqualTo(Duration.ZERO);

    dns.setWeights(fresh, 10, LOW);
    assertThat(route53.records(ZONE, "new.shop.example.com", "CNAME")).hasSize(2);

    dns.restoreRecords(fresh, found);
    assertThat(route53.records(ZONE, "new.shop.example.com", "CNAME")).isEmpty();
  }

  @Test
  void anUnknownZone_isFinal() {
    TrafficRecords elsewhere = new TrafficRecords("ZNOPE", NAME, "CNAME", "heroku", HEROKU, "aws", AWS);

    var f = failure(() -> dns.readRecords(elsewhere), Errors.DNS_ZONE_NOT_FOUND, true);
    assertThat(f.getOriginalMessage()).contains("dns.hostedZoneId", "ZNOPE");
    failure(() -> dns.setWeights(elsewhere, 10, LOW), Errors.DNS_ZONE_NOT_FOUND, true);
  }

  @Test
  void aWeightedRecordTheRunbookDoesNotName_isRefusedBeforeAnythingChanges() {
    removeSimple();
    route53.put(ZONE, RecordSet.weighted(NAME, "CNAME", "heroku", 100, 300, HEROKU));
    route53.put(ZONE, RecordSet.weighted(NAME, "CNAME", "canary", 5, 300, "canary.example.net"));

    var f = failure(() -> dns.readRecords(RECORDS), Errors.DNS_RECORDS_UNSUPPORTED, true);
    assertThat(f.getOriginalMessage()).contains("'canary'", "100 %");
    failure(() -> dns.setWeights(RECORDS, 10, LOW), Errors.DNS_RECORDS_UNSUPPORTED, true);
    assertThat(route53.batches()).isEmpty();
  }

  @Test
  void aRecordWithAHealthCheck_isRefused() {
    route53.put(ZONE, new RecordSet("www.shop.example.com.", "CNAME", null, null, 300, List.of(HEROKU), "hc-1"));

    failure(() -> dns.readRecords(RECORDS), Errors.DNS_RECORDS_UNSUPPORTED, true);
  }

  @Test
  void aBatchRoute53Refuses_isFinalWithItsReason() {
    route53.failNext(1, "InvalidChangeBatch", 400, "POST");

    var f = failure(() -> dns.setWeights(RECORDS, 10, LOW), Errors.DNS_CHANGE_REFUSED, true);
    assertThat(f.getOriginalMessage()).contains("Route 53 refused", "injected failure");
  }

  @Test
  void throttlingAndOutages_areRetryable_accessDeniedIsNot() {
    route53.failNext(1, "Throttling", 400);
    failure(() -> dns.readRecords(RECORDS), Errors.AWS_UNAVAILABLE, false);

    route53.failNext(1, "PriorRequestNotComplete", 400);
    failure(() -> dns.readRecords(RECORDS), Errors.AWS_UNAVAILABLE, false);

    route53.failNext(1, "InternalError", 500);
    failure(() -> dns.readRecords(RECORDS), Errors.AWS_UNAVAILABLE, false);

    route53.failNext(1, "AccessDenied", 403);
    failure(() -> dns.readRecords(RECORDS), Errors.AWS_ACCESS_DENIED, true);
  }

  @Test
  void aWorkerWithoutAws_failsFinallyWhenARunbookUsesDns() {
    env.close();
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new DnsActivitiesImpl(() -> { throw new IllegalStateException("Unable to load credentials"); }));
    dns = env.newActivityStub(DnsActivities.class);

    var f = failure(() -> dns.readRecords(RECORDS), Errors.AWS_ACCESS_DENIED, true);
    assertThat(f.getOriginalMessage()).contains("cannot make a Route 53 client");
  }

  private void removeSimple() {
    route53.remove(ZONE, NAME, "CNAME", null);
  }
}

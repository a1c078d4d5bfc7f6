package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Progress;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TenantSchemas;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Verification of a schema-per-tenant app of 300 tables (15 schemas × 20): its result names a
 * bounded number of objects and counts the rest, every comparison reaches {@link
 * VerificationDetails}, and a retry resumes from the bitmap of tables done.
 */
class ManyTablesVerifyTest {
  static final TenantSchemas TENANTS = new TenantSchemas(15, 20, 2);
  static MigrationDatabases dbs;

  TestActivityEnvironment env;
  Recording details;
  List<Progress> beats;

  @BeforeAll
  static void createDatabases() throws Exception {
    dbs = MigrationDatabases.tenants(TENANTS, true);
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    dbs.close();
  }

  @BeforeEach
  void activities() throws Exception {
    // Each test changes the target as it needs: it starts from a faithful copy again.
    TestCluster.TARGET.dropDatabase(dbs.target);
    TENANTS.createOn(TestCluster.TARGET, dbs.target);
    env = TestActivityEnvironment.newInstance();
    details = new Recording();
    beats = new CopyOnWriteArrayList<>();
    env.setActivityHeartbeatListener(Progress.class, beats::add);
    Databases databases = dbs.databases(Map.of());
    env.registerActivitiesImplementations(new VerifyActivitiesImpl(databases, details), new SequenceActivitiesImpl(databases));
  }

  @AfterEach
  void close() {
    env.close();
  }

  VerificationReport verify() {
    // A short heartbeat timeout makes the SDK pass on heartbeats often (its throttle is 80 % of it).
    ActivityOptions options =
        ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(5)).setHeartbeatTimeout(Duration.ofSeconds(1)).build();
    return env.newActivityStub(VerifyActivities.class, options).verifyDatabases(new VerifyRequest(dbs.references(), 2));
  }

  @Test
  void identicalTenants_reportCountsEveryTableAndNamesNone_everyComparisonIsRecorded() {
    VerificationReport report = verify();

    assertThat(report.mismatches()).as(report.summary()).isZero();
    assertThat(report.summary()).isEqualTo("300 tables (600 rows in 300 checksummed chunks), 300 sequences and the schema match");
    // More than 50 of each and none differs: the report names none.
    assertThat(report.tables()).isEmpty();
    assertThat(report.sequences()).isEmpty();
    assertThat(report.totals().detail()).isEqualTo("recorded for the test");
    assertThat(bytes(report)).isLessThan(2_000);
    assertThat(details.tables).hasSize(300).allSatisfy(t -> assertThat(t.matches()).isTrue());
    assertThat(details.sequences).hasSize(300);
    assertThat(details.finished).hasValue(0);
    assertThat(beats).isNotEmpty().allSatisfy(p -> assertThat(bytes(p)).isLessThan(4_000));
  }

  @Test
  void sixtyTablesAndASequenceDiffer_reportNamesFifty_countsAll_andSaysWhereTheRestIs() throws Exception {
    StringBuilder changes = new StringBuilder("SET session_replication_role = replica;"); // rows go, whatever refers to them
    for (int s = 1; s <= 3; s++) {
      for (int t = 0; t < 20; t++) {
        changes.append("DELETE FROM ").append(TenantSchemas.schema(s)).append('.').append(TenantSchemas.table(t)).append(" WHERE id = 2;");
      }
    }
    changes.append("SELECT setval('tenant_0015.exports_id_seq', 1, false);");
    TestCluster.TARGET.execute(dbs.target, changes.toString());

    VerificationReport report = verify();

    assertThat(report.mismatches()).isEqualTo(61);
    assertThat(report.totals().tablesDiffering()).isEqualTo(60);
    assertThat(report.totals().sequencesDiffering()).isEqualTo(1);
    assertThat(report.tables()).hasSize(VerificationReport.MAX_LISTED).allSatisfy(t -> assertThat(t.matches()).isFalse());
    assertThat(report.tables().get(0).table()).isEqualTo("tenant_0001.accounts");
    // Of 300 sequences, only the one behind is named.
    assertThat(report.sequences()).extracting(SequenceComparison::sequence).containsExactly("tenant_0015.exports_id_seq");
    assertThat(report.problems()).hasSize(52).last().asString().isEqualTo("… and 10 more mismatch(es): recorded for the test");
    assertThat(bytes(report)).isLessThan(20_000);
    assertThat(details.tables).hasSize(300).filteredOn(t -> !t.matches()).hasSize(60);
  }

  @Test
  void resumedWithACheckpointOfEveryTableDone_comparesNoTableAgain_andKeepsTheCounts() throws Exception {
    VerificationReport first = verify();
    assertThat(first.mismatches()).isZero();
    Progress last = beats.get(beats.size() - 1);
    assertThat(last.checkpoint().compared()).isNotNull();
    assertThat(last.tablesDone()).as("the last heartbeat, after every table").isEqualTo(300);
    // 300 tables done and none differs: no table is listed, the bitmap says which are done.
    assertThat(last.checkpoint().done()).isEmpty();
    assertThat(bytes(last)).isLessThan(1_000);
    // A change the resumed attempt would find, were it to compare that table again.
    TestCluster.TARGET.execute(dbs.target, "SET session_replication_role = replica; DELETE FROM tenant_0007.tasks");
    env.setHeartbeatDetails(last);
    details.tables.clear();

    VerificationReport resumed = verify();

    assertThat(details.tables).as("tables compared by the resumed attempt").isEmpty();
    assertThat(resumed.totals().tables()).isEqualTo(300);
    assertThat(resumed.totals().rows()).isEqualTo(600);
    assertThat(resumed.mismatches()).isZero();
  }

  @Test
  void sequenceSync_ofThreeHundredSequences_setsThemInAFewRoundTrips_andNamesAtMostTwentyAhead() throws Exception {
    StringBuilder ahead = new StringBuilder();
    for (int s = 1; s <= 2; s++) {
      for (int t = 0; t < 20; t++) {
        ahead.append("SELECT setval('").append(TenantSchemas.schema(s)).append('.').append(TenantSchemas.table(t)).append("_id_seq', 1000);");
      }
    }
    TestCluster.TARGET.execute(dbs.target, ahead.toString());
    TestCluster.TARGET.execute(dbs.target, "SELECT setval('tenant_0009.tasks_id_seq', 1, false)");
    SequenceActivities sequences = env.newActivityStub(SequenceActivities.class);

    SequenceSync sync = sequences.syncSequences(dbs.references());

    assertThat(sync.set()).isEqualTo(1);
    assertThat(sync.alreadyCurrent()).isEqualTo(300 - 40 - 1);
    assertThat(sync.aheadOnTarget()).hasSize(21).last().asString().startsWith("… and 20 more");
    assertThat(TestCluster.TARGET.queryLong(dbs.target, "SELECT last_value FROM tenant_0009.tasks_id_seq")).isEqualTo(2);
  }

  static int bytes(Object value) {
    return DefaultDataConverter.newDefaultInstance().toPayload(value).orElseThrow().getSerializedSize();
  }

  /** Every call, kept: what the ledger would hold. */
  static final class Recording implements VerificationDetails {
    final List<TableComparison> tables = new CopyOnWriteArrayList<>();
    final List<SequenceComparison> sequences = new CopyOnWriteArrayList<>();
    final List<SchemaDifference> schema = new CopyOnWriteArrayList<>();
    final AtomicInteger finished = new AtomicInteger(-1);

    @Override
    public String where(Verification v) {
      return "recorded for the test";
    }

    @Override
    public void begin(Verification v) {}

    @Override
    public void tables(Verification v, List<TableComparison> t) {
      tables.addAll(t);
    }

    @Override
    public void sequences(Verification v, List<SequenceComparison> s) {
      sequences.addAll(s);
    }

    @Override
    public void schema(Verification v, List<SchemaDifference> d) {
      schema.addAll(d);
    }

    @Override
    public void finish(Verification v, int mismatches) {
      finished.set(mismatches);
    }
  }
}

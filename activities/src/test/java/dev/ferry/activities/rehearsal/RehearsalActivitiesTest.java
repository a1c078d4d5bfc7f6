package dev.ferry.activities.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activity.RehearsalActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.rehearsal.ScratchDatabase;
import dev.ferry.testing.ActivityFailures;
import dev.ferry.testing.postgres.MigrationDatabases;
import java.sql.Statement;
import dev.ferry.testing.postgres.AppRole;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.sql.Connection;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scratch database and the freeze probe against the local clusters. */
class RehearsalActivitiesTest {
  MigrationDatabases shop;
  Databases databases;
  TestActivityEnvironment env;
  RehearsalActivities activities;
  ScratchDatabase scratch;

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    databases = shop.databases(Map.of());
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new RehearsalActivitiesImpl(databases));
    activities = env.newActivityStub(RehearsalActivities.class);
    scratch = new ScratchDatabase(ScratchDatabase.PREFIX + randomHex(), MigrationDatabases.TARGET_REF);
  }

  @AfterEach
  void tearDown() throws Exception {
    env.close();
    TestCluster.TARGET.dropDatabase(scratch.name());
    TestCluster.TARGET.execute("postgres", "ALTER DATABASE " + shop.target + " ALLOW_CONNECTIONS true");
    shop.close();
  }

  static String randomHex() {
    byte[] b = new byte[4];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static boolean exists(String database) throws Exception {
    return TestCluster.TARGET.queryLong("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + database + "'") == 1;
  }

  @Test
  void create_makesTheScratchDatabaseOnTheTargetsServer_whoseReferenceResolvesToIt_andDropRemovesIt() throws Exception {
    String ref = activities.createScratchDatabase(scratch);

    assertThat(ref).isEqualTo(scratch.reference());
    assertThat(exists(scratch.name())).isTrue();
    Endpoint resolved = databases.resolve(Databases.TARGET, ref);
    assertThat(resolved.url().database()).isEqualTo(scratch.name());
    assertThat(resolved.url().port()).isEqualTo(TestCluster.TARGET.port());
    assertThat(resolved.describe()).doesNotContain(TestCluster.PASSWORD);

    activities.dropScratchDatabase(scratch);
    assertThat(exists(scratch.name())).isFalse();
  }

  @Test
  void createAndDrop_areIdempotent() throws Exception {
    activities.createScratchDatabase(scratch);
    activities.createScratchDatabase(scratch);
    activities.dropScratchDatabase(scratch);
    activities.dropScratchDatabase(scratch);

    assertThat(exists(scratch.name())).isFalse();
  }

  @Test
  void drop_endsTheSessionsStillConnectedToTheScratchDatabase() throws Exception {
    activities.createScratchDatabase(scratch);
    try (Connection open = TestCluster.TARGET.connect(scratch.name())) {
      activities.dropScratchDatabase(scratch);

      assertThat(exists(scratch.name())).isFalse();
      assertThat(open.isValid(2)).isFalse();
    }
  }

  @Test
  void theProductionTargetDatabase_isNeverConnectedTo() throws Exception {
    // No one can connect to it now: a create or drop that went through it would fail.
    TestCluster.TARGET.execute("postgres", "ALTER DATABASE " + shop.target + " ALLOW_CONNECTIONS false");

    activities.createScratchDatabase(scratch);
    activities.dropScratchDatabase(scratch);

    assertThat(exists(scratch.name())).isFalse();
  }

  @Test
  void aTargetCredentialWithoutCreatedb_isRefusedFinally_namingTheGrant() throws Exception {
    String role = "ferry_nocreatedb_" + randomHex();
    TestCluster.TARGET.execute("postgres", "CREATE ROLE " + role + " LOGIN PASSWORD 'no-createdb-pw' NOCREATEDB");
    try {
      Databases limited =
          shop.databases(Map.of("LIMITED_TARGET_URL", TestCluster.TARGET.url(shop.target).replace(TestCluster.USER + ":" + TestCluster.PASSWORD, role + ":no-createdb-pw")));
      TestActivityEnvironment limitedEnv = TestActivityEnvironment.newInstance();
      try {
        limitedEnv.registerActivitiesImplementations(new RehearsalActivitiesImpl(limited));
        RehearsalActivities a = limitedEnv.newActivityStub(RehearsalActivities.class);
        ScratchDatabase refused = new ScratchDatabase(scratch.name(), "env:LIMITED_TARGET_URL");

        ApplicationFailure f = ActivityFailures.failure(() -> a.createScratchDatabase(refused), Errors.SCRATCH_DATABASE_REFUSED, true);

        assertThat(f.getOriginalMessage()).contains(role, "CREATEDB").doesNotContain("no-createdb-pw");
        assertThat(exists(scratch.name())).isFalse();
        a.dropScratchDatabase(refused); // nothing there: the clean-up after a refusal succeeds
      } finally {
        limitedEnv.close();
      }
    } finally {
      TestCluster.TARGET.execute("postgres", "DROP ROLE " + role);
    }
  }

  @Test
  void aMalformedScratchReference_isFinal() {
    ApplicationFailure f =
        ActivityFailures.failureOf(() -> databases.resolve(Databases.TARGET, "scratch:shop@" + MigrationDatabases.TARGET_REF));
    assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED);
    assertThat(f.isNonRetryable()).isTrue();
  }

  @Test
  void theFreezeProbe_triesTheSameFenceInATransactionItRollsBack_andChangesNothing() throws Exception {
    try (Connection app = TestCluster.SOURCE.connect(shop.source)) {
      String probe = activities.probeFreeze(MigrationDatabases.SOURCE_REF);

      assertThat(probe).matches(
          "a freeze would be allowed: the write fence went on 5 table\\(s\\) in \\d+ ms and refused a test write;"
              + " refused a test CREATE TABLE; it would end 1 session\\(s\\)");
      assertThat(app.isValid(5)).as("sessions are counted, not ended").isTrue();
      try (Statement s = app.createStatement()) {
        s.execute("UPDATE products SET stock = stock WHERE id = 1");
        s.execute("CREATE TABLE public.after_probe (id int)");
        s.execute("DROP TABLE public.after_probe");
      }
    }
    assertProbeLeftNothing();
  }

  @Test
  void theFreezeProbe_asTheAppsOwnRole_saysDdlWouldNotBeRefused_orThatAFreezeWouldBeRefused_andChangesNothing() throws Exception {
    AppRole app = AppRole.owning(TestCluster.SOURCE, shop.source);
    TestActivityEnvironment asApp = TestActivityEnvironment.newInstance();
    try {
      asApp.registerActivitiesImplementations(
          new RehearsalActivitiesImpl(shop.databases(Map.of("SHOP_SOURCE_URL", app.url(shop.source)))));
      RehearsalActivities probe = asApp.newActivityStub(RehearsalActivities.class);

      assertThat(probe.probeFreeze(MigrationDatabases.SOURCE_REF))
          .startsWith("a freeze would be allowed: the write fence went on 5 table(s)")
          .contains("refused a test write; DDL would not be refused (an event trigger needs a superuser)");

      TestCluster.SOURCE.execute(shop.source, "CREATE TABLE public.not_the_apps (id int)");
      assertThat(probe.probeFreeze(MigrationDatabases.SOURCE_REF))
          .startsWith("a freeze would be REFUSED: the write fence needs the owner of every table")
          .contains("public.not_the_apps");
      assertProbeLeftNothing();
    } finally {
      asApp.close();
      app.handBackAndDrop(shop.source);
    }
  }

  private void assertProbeLeftNothing() throws Exception {
    assertThat(TestCluster.SOURCE.queryLong("postgres",
            "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '" + shop.source + "'"))
        .as("database settings").isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source,
            "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%') + (SELECT count(*) FROM pg_event_trigger)"
                + " + (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry%')"))
        .as("fence objects").isZero();
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.FreezeResult;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.ActivityFailures;
import dev.ferry.testing.postgres.AppRole;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.StringReader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;

/**
 * The write fence against the real source cluster, as on Heroku: the app's writes run as a role
 * that owns the tables and is no superuser, and Ferry connects as that same role. Every write
 * path is tried while frozen (refused, whatever the session sets) and after the unfreeze
 * (allowed); what the fence cannot refuse is shown to be detected; Ferry's own sessions still do
 * what they must. Where the credential is a superuser (a self-managed source), DDL is refused too.
 */
@Timeout(120)
class WriteFenceTest {
  /** A table of the app's for the write paths to write (the shop's own tables are kept intact for verify). */
  private static final String PROBE_DDL =
      "CREATE TABLE public.fence_probe (id bigserial PRIMARY KEY, note text UNIQUE);"
          + " CREATE VIEW public.fence_probe_view AS SELECT id, note FROM public.fence_probe;"
          + " CREATE TABLE public.fence_events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);"
          + " CREATE TABLE public.fence_events_2024 PARTITION OF public.fence_events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')";

  static MigrationDatabases shop;
  static AppRole app;

  @TempDir Path workDir;
  /** Ferry with the app's credential (Heroku's default credential: owner, no superuser). */
  Harness asApp;
  /** Ferry with a superuser's credential (a self-managed source). */
  Harness asSuperuser;

  @BeforeAll
  static void createDatabasesAndTheAppsRole() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, PROBE_DDL);
    app = AppRole.owning(TestCluster.SOURCE, shop.source);
  }

  @AfterAll
  static void dropThem() throws Exception {
    shop.close();
    app.drop();
  }

  @BeforeEach
  void activities() throws Exception {
    shop.resetTarget();
    asApp = new Harness(shop, workDir, Map.of("SHOP_SOURCE_URL", app.url(shop.source)));
    asSuperuser = new Harness(shop, workDir, Map.of());
  }

  @AfterEach
  void thawByHand() throws Exception {
    asApp.close();
    asSuperuser.close();
    TestCluster.SOURCE.execute(shop.source, LIFT,
        "DROP EVENT TRIGGER IF EXISTS " + WriteFence.EVENT_TRIGGER,
        "DROP SCHEMA IF EXISTS " + WriteFence.SCHEMA + " CASCADE",
        "ALTER DATABASE " + shop.source + " RESET default_transaction_read_only",
        "DROP TABLE IF EXISTS public.sneaky");
  }

  // ---- every write path: refused while frozen, allowed after the unfreeze -----------------

  interface Write {
    void run(Connection c) throws Exception;
  }

  private static final String LIFT = "SET default_transaction_read_only = off";

  static Stream<Arguments> writePaths() {
    return Stream.of(
        path("SET default_transaction_read_only = off, then INSERT", c -> sql(c, LIFT, "INSERT INTO fence_probe (note) VALUES (md5(random()::text))")),
        path("BEGIN READ WRITE, then INSERT", c -> sql(c, "BEGIN READ WRITE", "INSERT INTO fence_probe (note) VALUES (md5(random()::text))", "COMMIT")),
        path("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE, then INSERT",
            c -> sql(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "INSERT INTO fence_probe (note) VALUES (md5(random()::text))")),
        path("COPY FROM STDIN", c -> {
          sql(c, LIFT);
          c.unwrap(PGConnection.class).getCopyAPI()
              .copyIn("COPY fence_probe (note) FROM STDIN", new StringReader("copied-" + System.nanoTime() + "\n"));
        }),
        path("TRUNCATE", c -> sql(c, LIFT, "TRUNCATE fence_probe")),
        path("UPDATE", c -> sql(c, LIFT, "UPDATE products SET price_cents = price_cents WHERE id = 1")),
        path("DELETE (no row matches: a statement trigger fires all the same)", c -> sql(c, LIFT, "DELETE FROM fence_probe WHERE id < 0")),
        path("DELETE of a row", c -> sql(c, LIFT, "DELETE FROM fence_probe WHERE id = (SELECT max(id) FROM fence_probe)")),
        path("INSERT … ON CONFLICT DO UPDATE",
            c -> sql(c, LIFT, "INSERT INTO fence_probe (note) VALUES ('upserted') ON CONFLICT (note) DO UPDATE SET note = excluded.note")),
        path("MERGE", c -> sql(c, LIFT,
            "MERGE INTO fence_probe p USING (SELECT 'merged' AS note) s ON p.note = s.note"
                + " WHEN MATCHED THEN UPDATE SET note = s.note WHEN NOT MATCHED THEN INSERT (note) VALUES (s.note)")),
        path("a writable CTE", c -> sql(c, LIFT,
            "WITH w AS (INSERT INTO fence_probe (note) VALUES (md5(random()::text)) RETURNING id) SELECT count(*) FROM w")),
        path("INSERT through an auto-updatable view", c -> sql(c, LIFT, "INSERT INTO fence_probe_view (note) VALUES (md5(random()::text))")),
        path("INSERT into a partitioned table", c -> sql(c, LIFT,
            "INSERT INTO fence_events VALUES ((random() * 1e9)::int, '2024-05-01')")),
        path("INSERT straight into a partition", c -> sql(c, LIFT,
            "INSERT INTO fence_events_2024 VALUES ((random() * 1e9)::int, '2024-06-01')")),
        path("INSERT in a session of the app's that calls itself ferry-sync-* (the freeze spares those)", c -> {
          sql(c, "SET application_name = 'ferry-sync-apply-impostor'", LIFT, "INSERT INTO fence_probe (note) VALUES (md5(random()::text))");
        }));
  }

  private static Arguments path(String name, Write write) {
    return Arguments.of(name, write);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writePaths")
  void eachWritePath_isRefusedWhileFrozen_andAllowedAfterTheUnfreeze(String name, Write write) throws Exception {
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    // A new session: the app reconnecting after the freeze ended its old one.
    try (Connection c = app.connect(shop.source)) {
      assertRefusedByTheFence(() -> write.run(c));
    }

    freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);

    try (Connection c = app.connect(shop.source)) {
      write.run(c);
    }
  }

  @Test
  void aSessionOpenBeforeTheFreeze_isEnded_andWhenItReconnectsAndLiftsReadOnly_itsWritesAreRefused() throws Exception {
    try (Connection before = app.connect(shop.source)) {
      sql(before, LIFT);
      FreezeResult frozen = freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(frozen.sessionsEnded()).isGreaterThanOrEqualTo(1);
      assertThat(frozen.fence()).contains("write fence on", "DDL not refused");
      assertThatThrownBy(() -> sql(before, "SELECT 1")).as("ended by the freeze").isInstanceOf(SQLException.class);
    }
    try (Connection again = app.connect(shop.source)) {
      assertRefusedByTheFence(() -> sql(again, LIFT, "INSERT INTO fence_probe (note) VALUES ('after reconnecting')"));
    }
  }

  @Test
  void aPreparedStatementOpenedBeforeTheFreeze_inASessionTheFreezeSpares_isRefusedWhileFrozen_andRunsAfter() throws Exception {
    try (Connection spared = app.connect(shop.source, "ferry-sync-apply-not-really")) {
      sql(spared, LIFT, "PREPARE put (text) AS INSERT INTO fence_probe (note) VALUES ($1)", "EXECUTE put('before')");

      freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(spared.isValid(5)).as("a session calling itself ferry-sync-* is not ended").isTrue();
      assertRefusedByTheFence(() -> sql(spared, "EXECUTE put('while frozen')"));
      freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);
      sql(spared, "EXECUTE put('after')");
    }
  }

  @Test
  void aSuperusersSessionFerryCannotEnd_isRefusedToo_evenWithSessionReplicationRoleReplica() throws Exception {
    try (Connection superuser = TestCluster.SOURCE.connect(shop.source)) {
      FreezeResult frozen = freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(frozen.sessionsLeft()).anySatisfy(s -> assertThat(s).startsWith(TestCluster.USER + "@"));
      assertRefusedByTheFence(() -> sql(superuser, LIFT, "INSERT INTO fence_probe (note) VALUES ('superuser')"));
      // Replica mode skips ordinary triggers (pg_restore --disable-triggers, replication tools):
      // the fence's are enabled ALWAYS.
      assertRefusedByTheFence(() -> sql(superuser, "SET session_replication_role = replica", "UPDATE products SET price_cents = 1 WHERE id = 1"));
    }
  }

  @Test
  void aRoleThatIsNotTheOwner_isRefusedWhileFrozen_andAllowedAfter() throws Exception {
    AppRole clerk = AppRole.create(TestCluster.SOURCE, TestCluster.uniqueDatabaseName("fence_clerk"));
    try {
      try (Connection owner = app.connect(shop.source)) {
        sql(owner, "GRANT INSERT, SELECT ON fence_probe TO " + clerk.name, "GRANT USAGE ON SEQUENCE fence_probe_id_seq TO " + clerk.name);
      }
      Write insert = c -> sql(c, LIFT, "INSERT INTO fence_probe (note) VALUES (md5(random()::text))");
      freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
      try (Connection c = clerk.connect(shop.source)) {
        assertRefusedByTheFence(() -> insert.run(c));
      }
      freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);
      try (Connection c = clerk.connect(shop.source)) {
        insert.run(c);
      }
    } finally {
      TestCluster.SOURCE.execute(shop.source, LIFT, "REVOKE ALL ON fence_probe FROM " + clerk.name,
          "REVOKE ALL ON SEQUENCE fence_probe_id_seq FROM " + clerk.name);
      clerk.drop();
    }
  }

  @Test
  void aForgedMarker_doesNotPass_notTheDigestItCanRead_norAnEmptyKey() throws Exception {
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    try (Connection c = app.connect(shop.source)) {
      String digest = queryString(c, "SELECT " + WriteFence.SCHEMA + ".key_digest()");
      assertThat(digest).matches("[0-9a-f]{64}");
      assertRefusedByTheFence(() -> sql(c, LIFT, "SET ferry.fence_key = '" + digest + "'", "INSERT INTO fence_probe (note) VALUES ('forged')"));
      assertRefusedByTheFence(() -> sql(c, "SET ferry.fence_key = ''", "INSERT INTO fence_probe (note) VALUES ('empty')"));
    }
  }

  // ---- what the fence does not refuse, and how it shows ----------------------------------

  @Test
  void sequencesAndLargeObjects_areNotFenced_whileReadOnlyStillStopsThemUntilASessionLiftsIt() throws Exception {
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    try (Connection c = app.connect(shop.source)) {
      assertThatThrownBy(() -> sql(c, "SELECT nextval('fence_probe_id_seq')"))
          .as("read-only by default").isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
      sql(c, LIFT);
      // No trigger sees a sequence or pg_largeobject: both still move.
      long before = queryLong(c, "SELECT last_value FROM fence_probe_id_seq");
      assertThat(queryLong(c, "SELECT nextval('fence_probe_id_seq')")).isGreaterThan(before);
      long lo = queryLong(c, "SELECT lo_from_bytea(0, 'written while frozen')");
      sql(c, "SELECT lo_put(" + lo + ", 0, 'W')", "SELECT lo_unlink(" + lo + ")");
    }
  }

  @Test
  void withoutAnEventTrigger_ddlIsNotRefused_butTheFinalVerifyNamesTheNewTableAndTheLargeObject() throws Exception {
    // Single-phase as on Heroku: frozen, dumped, restored; then a client lifts read-only and
    // creates a table (which no fence covers) and writes to it, and a large object.
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    asApp.restore(asApp.dump());
    try (Connection c = app.connect(shop.source)) {
      sql(c, LIFT, "CREATE TABLE public.sneaky (id int PRIMARY KEY)", "INSERT INTO public.sneaky VALUES (1)",
          "SELECT lo_from_bytea(0, 'lost?')");
    }

    VerificationReport report = asApp.verify(shop);

    assertThat(report.schema()).anySatisfy(d -> assertThat(d.object()).isEqualTo("public.sneaky"));
    assertThat(report.tables()).anySatisfy(t -> {
      assertThat(t.table()).isEqualTo(VerifyActivitiesImpl.LARGE_OBJECTS);
      assertThat(t.matches()).isFalse();
    });
    assertThat(report.mismatches()).isPositive();
    TestCluster.SOURCE.execute(shop.source, LIFT, "SELECT lo_unlink(oid) FROM pg_largeobject_metadata");
  }

  @Test
  void withASuperusersCredential_ddlIsRefusedToo_andTheFenceCannotBeTakenDownByTheApp() throws Exception {
    FreezeResult frozen = freeze(asSuperuser).freezeSource(MigrationDatabases.SOURCE_REF);
    assertThat(frozen.fence()).contains("DDL refused (event trigger)");

    try (Connection c = app.connect(shop.source)) {
      sql(c, LIFT);
      for (String ddl : List.of(
          "CREATE TABLE public.sneaky (id int)",
          "ALTER TABLE fence_probe DISABLE TRIGGER " + WriteFence.TRIGGER,
          "DROP TRIGGER " + WriteFence.TRIGGER + " ON fence_probe",
          "CREATE OR REPLACE FUNCTION " + WriteFence.SCHEMA + ".refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
          "DROP SCHEMA " + WriteFence.SCHEMA + " CASCADE",
          "ALTER SEQUENCE fence_probe_id_seq RESTART WITH 1")) {
        assertRefusedByTheFence(() -> sql(c, ddl));
      }
      assertRefusedByTheFence(() -> sql(c, "INSERT INTO fence_probe (note) VALUES ('x')"));
    }

    freeze(asSuperuser).unfreezeSource(MigrationDatabases.SOURCE_REF);

    try (Connection c = app.connect(shop.source)) {
      sql(c, "CREATE TABLE public.sneaky (id int)", "DROP TABLE public.sneaky");
    }
    assertNothingLeft();
  }

  // ---- Ferry's own sessions -----------------------------------------------------------------

  @Test
  void whileFrozenUnderAnEventTrigger_ferrysSnapshotRestoreSequencesAndVerifyWork_andTheTargetGetsNoFence() throws Exception {
    freeze(asSuperuser).freezeSource(MigrationDatabases.SOURCE_REF);

    asSuperuser.restore(asSuperuser.dump());
    asSuperuser.env.newActivityStub(SequenceActivities.class).syncSequences(shop.references());
    VerificationReport report = asSuperuser.verify(shop);

    assertThat(report.mismatches()).as(String.join("; ", report.problems())).isZero();
    assertThat(report.schema()).isEmpty();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'")).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_event_trigger")).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ferry_fence'")).isZero();
  }

  @Test
  void theRunsKey_passesTheFenceFromAnyWorkerOfTheDeployment_alsoAfterARotation_butNotFromAnotherDeployment() throws Exception {
    byte[] secret = bytes(1);
    byte[] next = bytes(2);
    Databases installing = databases(FenceKeys.of(List.of(secret)));
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new FreezeActivitiesImpl(installing));
      env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);
    } finally {
      env.close();
    }
    Endpoint source = installing.resolve(Databases.SOURCE, MigrationDatabases.SOURCE_REF);
    String run = Harness.WORKFLOW_ID;

    // Another worker (or this one restarted): the same secret, so the same key.
    for (FenceKeys keys : List.of(FenceKeys.of(List.of(secret)), FenceKeys.of(List.of(next, secret)))) {
      try (Connection ferry = databases(keys).connectPastFence(source, "ferry-sync-teardown-test", run)) {
        sql(ferry, "CREATE TABLE public.sneaky (id int)", "INSERT INTO public.sneaky VALUES (1)", "DROP TABLE public.sneaky");
        sql(ferry, "INSERT INTO fence_probe (note) VALUES ('ferry') ON CONFLICT DO NOTHING", "DELETE FROM fence_probe WHERE note = 'ferry'");
      }
    }
    try (Connection stranger = databases(FenceKeys.of(List.of(next))).connectPastFence(source, "ferry-elsewhere", run);
        Connection otherRun = databases(FenceKeys.of(List.of(secret))).connectPastFence(source, "ferry-other-run", "migration-shop-other")) {
      assertRefusedByTheFence(() -> sql(stranger, "CREATE TABLE public.sneaky (id int)"));
      assertRefusedByTheFence(() -> sql(otherRun, "INSERT INTO fence_probe (note) VALUES ('other run')"));
    }
  }

  @Test
  void theKey_isNeitherInTheCatalogsNorInWhatTheAppCanSeeOfFerrysSession() throws Exception {
    // Ferry as the app's own role: the app sees Ferry's sessions in pg_stat_activity, queries and all.
    Databases ferry = shop.databases(Map.of("SHOP_SOURCE_URL", app.url(shop.source)));
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    String key = FenceKeys.ephemeral().key(Harness.WORKFLOW_ID);
    Endpoint source = ferry.resolve(Databases.SOURCE, MigrationDatabases.SOURCE_REF);
    try (Connection session = ferry.connectPastFence(source, "ferry-sync-teardown-seen", Harness.WORKFLOW_ID);
        Connection c = app.connect(shop.source)) {
      String everything = queryString(c,
          "SELECT string_agg(coalesce(query, ''), ' ') FROM pg_stat_activity WHERE datname = current_database()")
          + queryString(c, "SELECT string_agg(prosrc, ' ') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
              + " WHERE n.nspname = 'ferry_fence'")
          + queryString(c, "SELECT coalesce(string_agg(setting, ' '), '') FROM pg_settings WHERE name LIKE 'ferry.%'");
      assertThat(everything).contains("set_config('ferry.fence_key', $1", FenceKeys.digest(key)).doesNotContain(key);
      assertThat(queryString(session, "SELECT current_setting('ferry.fence_key')")).as("Ferry's session carries it").isEqualTo(key);
    }
  }

  // ---- idempotent, and nothing left ----------------------------------------------------------

  @Test
  void freezeAndUnfreeze_areIdempotent_andLeaveNothingBehind() throws Exception {
    FreezeResult first = freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);
    FreezeResult again = freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);

    long tables = TestCluster.SOURCE.queryLong(shop.source,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
            + " AND n.nspname IN ('public', 'billing')");
    assertThat(TestCluster.SOURCE.queryLong(shop.source,
        "SELECT count(*) FROM pg_trigger WHERE tgname = '" + WriteFence.TRIGGER + "' AND tgenabled = 'A'")).isEqualTo(tables);
    assertThat(first.fence()).isEqualTo(again.fence()).contains("write fence on " + tables + " table(s)");
    try (Connection c = app.connect(shop.source)) {
      assertRefusedByTheFence(() -> sql(c, LIFT, "UPDATE products SET stock = stock WHERE id = 1"));
    }

    freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);
    freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);

    assertNothingLeft();
    TestCluster.SOURCE.execute(shop.source, "UPDATE products SET stock = stock WHERE id = 1");
  }

  @Test
  void anUnfreezeThatFindsTheFenceGone_succeeds_andTheSourceTakesWrites() throws Exception {
    freeze(asSuperuser).freezeSource(MigrationDatabases.SOURCE_REF);
    TestCluster.SOURCE.execute(shop.source, LIFT,
        "DROP EVENT TRIGGER " + WriteFence.EVENT_TRIGGER, "DROP SCHEMA " + WriteFence.SCHEMA + " CASCADE");

    freeze(asSuperuser).unfreezeSource(MigrationDatabases.SOURCE_REF);

    assertNothingLeft();
  }

  @Test
  void liftFence_removesTheFence_butLeavesTheSourceReadOnly() throws Exception {
    freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF);

    freeze(asApp).liftFence(MigrationDatabases.SOURCE_REF);

    assertThat(fenceObjects()).isZero();
    assertThat(readOnlySetting()).isOne();
  }

  // ---- a fence that cannot be installed ------------------------------------------------------

  @Test
  void aTableTheCredentialDoesNotOwn_isRefusedFinal_byPreflightAndByTheFreeze_namingIt_andNothingChanges() throws Exception {
    TestCluster.SOURCE.execute(shop.source, "CREATE TABLE billing.ledger_notes (id int PRIMARY KEY)");
    try {
      ApplicationFailure preflight =
          ActivityFailures.failure(() -> asApp.env.newActivityStub(PreflightActivities.class).auditDatabases(shop.references()),
              Errors.FREEZE_REFUSED, true);
      ApplicationFailure freeze =
          ActivityFailures.failure(() -> freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF), Errors.FREEZE_REFUSED, true);

      for (ApplicationFailure f : List.of(preflight, freeze)) {
        assertThat(f.getOriginalMessage()).contains("does not own 1 table(s): billing.ledger_notes", "OWNER TO " + app.name)
            .doesNotContain(app.password);
      }
      assertThat(fenceObjects()).isZero();
      assertThat(readOnlySetting()).isZero();
    } finally {
      TestCluster.SOURCE.execute(shop.source, LIFT, "DROP TABLE billing.ledger_notes");
    }
  }

  @Test
  void anotherRunsFence_isRefusedFinal_andThisRunsUnfreezeLeavesItAlone() throws Exception {
    try (Connection c = TestCluster.SOURCE.connect(shop.source)) {
      c.setAutoCommit(false);
      WriteFence.install(c, "migration-shop-earlier", FenceKeys.digest("someone else's"), false);
      c.commit();
    }

    ApplicationFailure refused = ActivityFailures.failure(
        () -> freeze(asApp).freezeSource(MigrationDatabases.SOURCE_REF), Errors.FREEZE_REFUSED, true);
    assertThat(refused.getOriginalMessage()).contains("write fence of run migration-shop-earlier", "DROP SCHEMA ferry_fence CASCADE");
    ApplicationFailure preflight = ActivityFailures.failure(
        () -> asApp.env.newActivityStub(PreflightActivities.class).auditDatabases(shop.references()), Errors.FREEZE_REFUSED, true);
    assertThat(preflight.getOriginalMessage()).contains("migration-shop-earlier");

    freeze(asApp).unfreezeSource(MigrationDatabases.SOURCE_REF);

    assertThat(fenceObjects()).isPositive();
  }

  // ---- preflight says what the fence cannot stop ----------------------------------------------

  @Test
  void preflight_warnsWhatTheFenceCannotStopOnThisSource() {
    PreflightReport report = asApp.preflight(shop);

    assertThat(report.warnings())
        .anySatisfy(w -> assertThat(w).contains("DDL is not refused", app.name + " is none"))
        .anySatisfy(w -> assertThat(w).contains("superuser role(s) that may log in", TestCluster.USER))
        .anySatisfy(w -> assertThat(w).contains("sequences are not fenced"));
    assertThat(asSuperuser.preflight(shop).warnings()).noneSatisfy(w -> assertThat(w).contains("DDL is not refused"));
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static FreezeActivities freeze(Harness h) {
    return h.env.newActivityStub(FreezeActivities.class);
  }

  private static void assertRefusedByTheFence(ThrowingCallable write) {
    assertThatThrownBy(write).isInstanceOfSatisfying(SQLException.class, e -> {
      assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("25006");
      assertThat(e.getMessage()).contains("write fence");
    });
  }

  private void assertNothingLeft() throws SQLException {
    assertThat(fenceObjects()).as("fence triggers, schema and event trigger").isZero();
    assertThat(readOnlySetting()).as("database setting").isZero();
    try (Connection c = app.connect(shop.source)) {
      sql(c, "INSERT INTO fence_probe (note) VALUES (md5(random()::text))");
    }
  }

  private long fenceObjects() throws SQLException {
    return TestCluster.SOURCE.queryLong(shop.source,
        "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = '" + WriteFence.TRIGGER + "')"
            + " + (SELECT count(*) FROM pg_namespace WHERE nspname = '" + WriteFence.SCHEMA + "')"
            + " + (SELECT count(*) FROM pg_event_trigger WHERE evtname = '" + WriteFence.EVENT_TRIGGER + "')");
  }

  private long readOnlySetting() throws SQLException {
    return TestCluster.SOURCE.queryLong("postgres",
        "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            + " WHERE d.datname = '" + shop.source + "' AND 'default_transaction_read_only=on' = ANY (s.setconfig)");
  }

  private static Databases databases(FenceKeys keys) {
    Map<String, String> env = new HashMap<>(shop.environment());
    return new Databases(new SecretResolver(env, () -> {
      throw new IllegalStateException("no SSM in this test");
    }), keys);
  }

  private static byte[] bytes(int seed) {
    byte[] b = new byte[32];
    java.util.Arrays.fill(b, (byte) seed);
    return b;
  }

  private static void sql(Connection c, String... statements) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  private static long queryLong(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String queryString(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

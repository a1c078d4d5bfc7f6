package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync's preflight ({@code checkSync}) against the real clusters: everything each method
 * would refuse at start-sync is reported before the start gate, all at once, by name, with
 * nothing changed on either side; and start-sync refuses exactly that.
 */
@Timeout(180)
class SyncCheckTest {
  @TempDir Path workDir;
  private MigrationDatabases shop;
  private String app;
  private String appPassword;
  private String targetUser;
  private long privateObject;
  private TestActivityEnvironment env;
  private final List<SyncRequest> requests = new java.util.ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    app = TestCluster.uniqueDatabaseName("app");
    appPassword = "pw-" + UUID.randomUUID();
    targetUser = TestCluster.uniqueDatabaseName("tgt");
    TestCluster.SOURCE.execute("postgres", "CREATE ROLE " + app + " LOGIN PASSWORD '" + appPassword + "'");
    TestCluster.TARGET.execute("postgres", "CREATE ROLE " + targetUser + " LOGIN PASSWORD '" + appPassword + "'");
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (env != null) {
        env.close();
      }
      TestCluster.SOURCE.execute(shop.source, "REASSIGN OWNED BY " + app + " TO " + TestCluster.USER, "DROP OWNED BY " + app);
    } finally {
      shop.close();
      TestCluster.SOURCE.execute("postgres", "DROP ROLE IF EXISTS " + app);
      TestCluster.TARGET.execute("postgres", "DROP ROLE IF EXISTS " + targetUser);
    }
  }

  @Test
  void everyRefusalOfBothMethods_isReportedAtOnceByName_changingNothing_andIsWhatStartSyncRefuses() throws Exception {
    // A source with a trap for each check, reached with an app's credential that owns all but
    // one table, may neither replicate nor create roles nor create in the database, and cannot
    // read one large object; a target credential that is no superuser.
    TestCluster.SOURCE.execute(
        shop.source,
        "CREATE TABLE audit_log (at timestamptz, line text)",
        "INSERT INTO audit_log VALUES (now(), 'x')",
        "CREATE UNLOGGED TABLE session_cache (k text PRIMARY KEY, v text)",
        "ALTER SCHEMA billing OWNER TO " + app,
        "DO $$ DECLARE t record; BEGIN FOR t IN SELECT schemaname, tablename FROM pg_tables"
            + " WHERE schemaname IN ('public', 'billing') AND tablename <> 'products' LOOP"
            + " EXECUTE format('ALTER TABLE %I.%I OWNER TO " + app + "', t.schemaname, t.tablename); END LOOP; END $$");
    privateObject = TestCluster.SOURCE.queryLong(shop.source, "SELECT lo_from_bytea(0, convert_to('not yours', 'UTF8'))::bigint");
    env = environment(
        Map.of(
            "SHOP_SOURCE_URL", TestCluster.SOURCE.urlWithPassword(shop.source, appPassword).replace(TestCluster.USER + ":", app + ":"),
            "SHOP_TARGET_URL", TestCluster.TARGET.urlWithPassword(shop.target, appPassword).replace(TestCluster.USER + ":", targetUser + ":")));
    SyncRequest trigger = request(SyncSpec.TRIGGER, null);
    SyncRequest logical = request(SyncSpec.LOGICAL, SyncSpec.PER_RUN_ROLE);

    SyncCheck triggerCheck = sync().checkSync(trigger);
    SyncCheck logicalCheck = sync().checkSync(logical);

    assertThat(triggerCheck.refusals())
        .hasSize(5)
        .anySatisfy(r -> assertThat(r).contains("primary key", "public.audit_log"))
        .anySatisfy(r -> assertThat(r).contains(app, "CREATE on the database"))
        .anySatisfy(r -> assertThat(r).contains("does not own", "public.products").doesNotContain("public.orders"))
        .anySatisfy(r -> assertThat(r).contains("1 large object(s)", "oid " + privateObject))
        .anySatisfy(r -> assertThat(r).contains("session_replication_role"));
    assertThat(logicalCheck.refusals())
        .hasSize(8)
        .anySatisfy(r -> assertThat(r).contains("has no REPLICATION privilege"))
        .anySatisfy(r -> assertThat(r).contains("replica identity", "public.audit_log"))
        .anySatisfy(r -> assertThat(r).contains("unlogged", "public.session_cache"))
        .anySatisfy(r -> assertThat(r).contains("may not create a publication", "CREATE on the database"))
        .anySatisfy(r -> assertThat(r).contains("does not own", "public.products"))
        .anySatisfy(r -> assertThat(r).contains(targetUser, "may not create a subscription"))
        .anySatisfy(r -> assertThat(r).contains("sync.replicationRole per-run", "CREATEROLE", "source-credential"))
        .anySatisfy(r -> assertThat(r).contains("oid " + privateObject));
    assertThat(triggerCheck.refusals()).noneSatisfy(r -> assertThat(r).contains(appPassword));
    assertThat(logicalCheck.refusals()).noneSatisfy(r -> assertThat(r).contains(appPassword));
    assertNothingChanged();

    // What the check found is exactly what start-sync refuses, before it changes anything.
    for (var pair : List.of(Map.entry(trigger, triggerCheck), Map.entry(logical, logicalCheck))) {
      assertThatThrownBy(() -> sync().startSync(pair.getKey()))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
            assertThat(f.getType()).isEqualTo(Errors.SYNC_REFUSED);
            assertThat(f.isNonRetryable()).isTrue();
            assertThat(f.getOriginalMessage()).contains(pair.getValue().refusals()).doesNotContain(appPassword);
          });
    }
    assertNothingChanged();
  }

  @Test
  void aSourceEitherMethodCanSync_passesTheCheck() throws Exception {
    env = environment(Map.of());

    assertThat(sync().checkSync(request(SyncSpec.TRIGGER, null))).satisfies(c -> {
      assertThat(c.refusals()).isEmpty();
      assertThat(c.warnings()).isEmpty();
    });
    assertThat(sync().checkSync(request(SyncSpec.LOGICAL, SyncSpec.PER_RUN_ROLE))).satisfies(c -> {
      assertThat(c.refusals()).isEmpty();
      assertThat(c.warnings()).isEmpty();
    });
    assertThat(sync().checkSync(request(SyncSpec.LOGICAL, SyncSpec.SOURCE_CREDENTIAL)).warnings())
        .singleElement()
        .satisfies(w -> assertThat(w).contains("source-credential", "would allow a role made for the run"));
    assertNothingChanged();
  }

  private SyncRequest request(String method, String replicationRole) {
    SyncRequest request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), method, 2, replicationRole);
    requests.add(request);
    return request;
  }

  private TestActivityEnvironment environment(Map<String, String> urls) {
    Databases databases = shop.databases(urls);
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    TestActivityEnvironment e = TestActivityEnvironment.newInstance();
    e.registerActivitiesImplementations(new SyncActivitiesImpl(databases, copy));
    return e;
  }

  private SyncActivities sync() {
    return env.newActivityStub(SyncActivities.class);
  }

  private void assertNothingChanged() throws Exception {
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ferry%'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry%'")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_publication")).isZero();
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
        .isZero();
    for (SyncRequest request : requests) {
      String role = new SyncSession(request, null, null, "test").replicationRole();
      assertThat(TestCluster.SOURCE.queryLong("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'"))
          .as(role).isZero();
    }
    assertThat(TestCluster.TARGET.queryLong(
            shop.target, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN"
                + " ('pg_catalog', 'information_schema', 'pg_toast')"))
        .as("relations on the target").isZero();
  }
}

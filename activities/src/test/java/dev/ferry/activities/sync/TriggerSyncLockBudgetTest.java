package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installing and dropping the trigger capture on a source whose app holds a table in a long
 * transaction (dropping a trigger waits even for a reader, creating one for a writer): the DDL
 * waits for the lock in short tries, and when the tries have spent the budget the attempt fails
 * as {@link Errors#SOURCE_BUSY} naming the session that holds it, with the app's transaction
 * untouched and nothing half-installed. The budget is counted from the tries, so the test's
 * pause, which returns at once, spends it as the real one does: three tries of a 500 ms lock
 * wait with two pauses of 500 ms between them spend 2.5 s, and a fourth would pass the 2.5 s
 * budget, on any machine.
 */
@Timeout(120)
class TriggerSyncLockBudgetTest {
  private static final String APP = "test-app-long-transaction";
  /** A lock wait of a third of it: 500 ms. */
  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMillis(1500);
  private static final Duration BUDGET = Duration.ofMillis(2500);

  @TempDir Path workDir;
  private MigrationDatabases shop;
  private Databases databases;
  private TestActivityEnvironment env;
  private SyncRequest request;
  private final List<Duration> pauses = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    databases = shop.databases(Map.of());
    env = TestActivityEnvironment.newInstance();
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    Pause recorded = pauses::add;
    env.registerActivitiesImplementations(
        new SyncActivitiesImpl(
            databases, new TriggerSync(databases, copy, recorded, TriggerSync.BATCH, BUDGET), new LogicalSync(databases, copy)));
    request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.TRIGGER, 2, null);
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      sync().stopSync(request);
    } finally {
      env.close();
      shop.close();
    }
  }

  @Test
  void teardownWhileTheAppHoldsATable_failsSourceBusyNamingTheSession_andSucceedsOnceItEnds() throws Exception {
    SyncSession session = session();
    try (Connection c = databases.connect(session.source(), "test-setup")) {
      TriggerCapture.install(c, session, CapturedTable.read(c).values(), TriggerSync.MAX_LOCK_WAIT, () -> {});
    }
    try (Connection app = appSession(); Statement st = app.createStatement()) {
      app.setAutoCommit(false);
      st.executeQuery("SELECT count(*) FROM public.orders").close();
      int pid = pid(app);

      assertThatThrownBy(() -> sync().stopSync(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SOURCE_BUSY);
                assertThat(f.isNonRetryable()).isFalse();
                assertThat(f.getOriginalMessage())
                    .contains("removing the change capture waited 2.5 s in all (3 tries)")
                    .contains("pid " + pid + " (application '" + APP + "'")
                    .contains("idle in transaction")
                    .contains("on orders")
                    .contains("the step is tried again");
              });
      assertThat(pauses).containsExactly(Duration.ofMillis(500), Duration.ofMillis(500));
      assertThat(triggersOn("orders")).as("the held table keeps its capture until the lock is free").isEqualTo(2);

      // The app's transaction went on as if nothing had waited beside it.
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM public.orders")) {
        assertThat(rs.next()).isTrue();
      }
      app.commit();
    }

    sync().stopSync(request);
    assertThat(triggersOn("orders")).isZero();
    assertThat(captureTriggers()).isZero();
    assertThat(schemaExists(session.schema())).isFalse();
  }

  @Test
  void setupWhileTheAppHoldsATable_failsSourceBusy_andInstallsNothing() throws Exception {
    try (Connection app = appSession(); Statement st = app.createStatement()) {
      app.setAutoCommit(false);
      // A write not yet committed: its lock is one that creating a trigger waits for (a read's is not).
      st.executeUpdate("UPDATE public.customers SET full_name = full_name WHERE id = (SELECT min(id) FROM public.customers)");
      int pid = pid(app);

      assertThatThrownBy(() -> sync().startSync(request))
          .rootCause()
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SOURCE_BUSY);
                assertThat(f.getOriginalMessage())
                    .contains("installing the change capture waited 2.5 s in all (3 tries)")
                    .contains("pid " + pid + " (application '" + APP + "'")
                    .contains("on customers");
              });
      assertThat(pauses).containsExactly(Duration.ofMillis(500), Duration.ofMillis(500));
      assertThat(captureTriggers()).as("the capture goes in on every table or on none").isZero();
      assertThat(schemaExists(session().schema())).isFalse();
      app.commit();
    }
  }

  private SyncActivities sync() {
    return env.newActivityStub(
        SyncActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(1))
            .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
            .build());
  }

  private SyncSession session() {
    Endpoint source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    return new SyncSession(request, source, target, TriggerSyncRetryTest.WORKFLOW_ID);
  }

  private long triggersOn(String table) throws SQLException {
    return count(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public." + table + "'::regclass AND tgname LIKE 'ferry\\_capture\\_%'");
  }

  private long captureTriggers() throws SQLException {
    return count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ferry\\_capture\\_%'");
  }

  private boolean schemaExists(String schema) throws SQLException {
    return count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") > 0;
  }

  private long count(String sql) throws SQLException {
    try (Connection c = appSession(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static int pid(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** A session of the app on the source. */
  private Connection appSession() throws SQLException {
    return TestCluster.SOURCE.connect(shop.source, APP);
  }

}

package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.ShopWriter;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trigger sync's setup retried after its worker died in the middle of the initial copy:
 * the dead attempt's capture is on the source, and its pg_dump, a process of its own, is still
 * running and holds a lock on every table it dumps (it lives on until it next prints a line,
 * which for a big table is the end of that table's copy).
 */
@Timeout(120)
class TriggerSyncRetryTest {
  /** What {@link TestActivityEnvironment} names the workflow of the activities it runs. */
  static final String WORKFLOW_ID = "test-workflow-id";

  @TempDir Path workDir;
  private MigrationDatabases shop;
  private Databases databases;
  private TestActivityEnvironment env;
  private SyncRequest request;

  @BeforeEach
  void setUp() throws Exception {
    shop = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(shop.source, ShopWriter.NOTES_DDL);
    databases = shop.databases(Map.of());
    env = TestActivityEnvironment.newInstance();
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir.resolve("sync"));
    env.registerActivitiesImplementations(new SyncActivitiesImpl(databases, copy));
    request = new SyncRequest(UUID.randomUUID().toString(), shop.references(), SyncSpec.TRIGGER, 2, null);
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      env.newActivityStub(SyncActivities.class).stopSync(request);
    } finally {
      env.close();
      shop.close();
    }
  }

  @Test
  void retryAfterAWorkerDiedMidCopy_endsTheDeadAttemptsPgDump_andSetsUpWithoutWaitingForItsLocks() throws Exception {
    // What the dead attempt left: its capture installed (the setup never finished) ...
    Endpoint source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    SyncSession session = new SyncSession(request, source, target, WORKFLOW_ID);
    try (Connection c = databases.connect(source, "test-dead-attempt")) {
      TriggerCapture.install(c, session, CapturedTable.read(c).values(), TriggerSync.MAX_LOCK_WAIT, () -> {});
    }
    // ... and its pg_dump, still in a transaction that has locked the tables it dumps.
    try (Connection orphanedDump = TestCluster.SOURCE.connect(shop.source, session.applicationName("ferry-sync-dump"));
        Statement s = orphanedDump.createStatement()) {
      orphanedDump.setAutoCommit(false);
      s.execute("LOCK TABLE public.customers, public.products, public.orders, public.order_items, billing.invoices,"
          + " public.notes IN ACCESS SHARE MODE");

      SyncSetup setup =
          CompletableFuture.supplyAsync(() -> env.newActivityStub(SyncActivities.class).startSync(request))
              // Well within the 60 s the setup would wait for the locks before failing.
              .get(45, TimeUnit.SECONDS);

      assertThat(setup.tables()).isEqualTo(6);
      assertThatThrownBy(() -> s.execute("SELECT 1"))
          .as("the orphaned pg_dump's session was ended")
          .isInstanceOf(SQLException.class);
    }
  }

}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.FreezeActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.FreezeResult;
import dev.ferry.testing.postgres.AppRole;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Freezing the real source cluster's database, and thawing it. */
class FreezeActivitiesTest extends ShopDatabaseTest {
  private static final String WRITE = "UPDATE products SET price_cents = price_cents WHERE id = 1";

  @AfterEach
  void thaw() throws Exception {
    TestCluster.SOURCE.execute(shop.source, "SET default_transaction_read_only = off",
        "DROP EVENT TRIGGER IF EXISTS " + WriteFence.EVENT_TRIGGER, "DROP SCHEMA IF EXISTS " + WriteFence.SCHEMA + " CASCADE");
    TestCluster.SOURCE.execute("postgres", "ALTER DATABASE " + shop.source + " RESET default_transaction_read_only");
  }

  @Test
  void freeze_makesNewSessionsReadOnlyAndEndsTheOpenOnes_unfreezeUndoesIt_bothIdempotent() throws Exception {
    try (Connection open = TestCluster.SOURCE.connect(shop.source)) {
      FreezeResult frozen = freeze().freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(frozen.sessionsEnded()).isGreaterThanOrEqualTo(1);
      assertThat(frozen.sessionsLeft()).isEmpty();
      assertThatThrownBy(() -> write(open)).as("the session open before the freeze was ended")
          .isInstanceOf(SQLException.class);
    }
    assertThatThrownBy(() -> TestCluster.SOURCE.execute(shop.source, WRITE))
        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
    freeze().freezeSource(MigrationDatabases.SOURCE_REF);

    freeze().unfreezeSource(MigrationDatabases.SOURCE_REF);
    freeze().unfreezeSource(MigrationDatabases.SOURCE_REF);

    TestCluster.SOURCE.execute(shop.source, WRITE);
  }

  @Test
  void freeze_sparesOnlyTheSyncsOwnSessions_notAnAppThatCallsItselfFerry() throws Exception {
    try (Connection sync = named("ferry-sync-apply-migration-shop-1");
        Connection impostor = named("ferry-reports")) {
      freeze().freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(sync.isValid(5)).as("the sync's applier keeps its session").isTrue();
      assertThat(impostor.isValid(5)).as("an app named ferry-* is ended like any other").isFalse();
    }
  }

  private Connection named(String applicationName) throws SQLException {
    Connection c = TestCluster.SOURCE.connect(shop.source);
    try (var st = c.createStatement()) {
      st.execute("SET application_name = '" + applicationName + "'");
    }
    return c;
  }

  @Test
  void ownerWhoIsNoSuperuser_freezesButCannotEndASuperusersSession_andSaysSo() throws Exception {
    AppRole owner = AppRole.owning(TestCluster.SOURCE, shop.source);
    try (Connection superuser = TestCluster.SOURCE.connect(shop.source);
        Harness asOwner = new Harness(shop, workDir, Map.of("SHOP_SOURCE_URL", owner.url(shop.source)))) {
      FreezeResult frozen = asOwner.env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF);

      assertThat(frozen.sessionsLeft()).anySatisfy(s -> assertThat(s).startsWith(TestCluster.USER + "@"));
      assertThat(frozen.fence()).contains("write fence on");
      asOwner.env.newActivityStub(FreezeActivities.class).unfreezeSource(MigrationDatabases.SOURCE_REF);
    } finally {
      owner.handBackAndDrop(shop.source);
    }
  }

  @Test
  void credentialThatDoesNotOwnTheDatabase_isRefusedFinal() throws Exception {
    String stranger = TestCluster.uniqueDatabaseName("stranger");
    TestCluster.SOURCE.execute("postgres", "CREATE ROLE " + stranger + " LOGIN PASSWORD 'owner-pw'");
    try (Harness asStranger = new Harness(shop, workDir, Map.of("SHOP_SOURCE_URL", ownerUrl(stranger)))) {
      assertThatThrownBy(() -> asStranger.env.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
            assertThat(f.getType()).isEqualTo(Errors.FREEZE_REFUSED);
            assertThat(f.isNonRetryable()).isTrue();
            assertThat(f.getOriginalMessage()).contains("must own the database").doesNotContain("owner-pw");
          });
    } finally {
      TestCluster.SOURCE.execute("postgres", "DROP ROLE " + stranger);
    }
    TestCluster.SOURCE.execute(shop.source, WRITE);
  }

  private FreezeActivities freeze() {
    return harness.env.newActivityStub(FreezeActivities.class);
  }

  private String ownerUrl(String role) {
    return "postgres://" + role + ":owner-pw@127.0.0.1:" + TestCluster.SOURCE.port() + "/" + shop.source;
  }

  private static void write(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(WRITE);
    }
  }
}

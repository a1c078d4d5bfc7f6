package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.DatabasePair;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A reference outside the worker's allow-list never reaches a connection attempt: the database it
 * names (here a listening socket that counts who knocks) is never contacted, and the failure is
 * final, naming the field and the reference but not the value.
 */
class ReferenceAllowListTest {
  ServerSocket listener;
  Databases databases;

  @BeforeEach
  void start() throws IOException {
    listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    String elsewhere = "postgres://other:0ther-app-pw@127.0.0.1:" + listener.getLocalPort() + "/other_app";
    databases =
        new Databases(
            new SecretResolver(
                Map.of(
                    "SHOP_SOURCE_URL", elsewhere,
                    "SHOP_TARGET_URL", elsewhere,
                    "OTHER_APP_DATABASE_URL", elsewhere,
                    "FERRY_LEDGER_URL", elsewhere),
                () -> {
                  throw new IllegalStateException("no SSM in this test");
                }));
  }

  @AfterEach
  void stop() throws IOException {
    listener.close();
  }

  @Test
  void preflight_refusesAReferenceOutsideTheList_beforeConnectingToEitherSide() throws Exception {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new PreflightActivitiesImpl(databases, PgTools.locate(Map.of())));
      PreflightActivities preflight = env.newActivityStub(PreflightActivities.class);

      assertThatThrownBy(() -> preflight.auditDatabases(new DatabasePair("env:SHOP_SOURCE_URL", "env:OTHER_APP_DATABASE_URL")))
          .isInstanceOfSatisfying(
              ActivityFailure.class,
              e -> {
                ApplicationFailure f = (ApplicationFailure) e.getCause();
                assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED);
                assertThat(f.isNonRetryable()).isTrue();
                assertThat(f.getOriginalMessage())
                    .startsWith("target.databaseUrl: env:OTHER_APP_DATABASE_URL is not among the references this worker may resolve")
                    .doesNotContain("0ther-app-pw", "127.0.0.1");
              });
    } finally {
      env.close();
    }
    assertNobodyKnocked();
  }

  @Test
  void ferrysOwnLedger_isRefusedAsASourceBeforeAnyConnection() throws IOException {
    assertThatThrownBy(() -> databases.resolve(Databases.SOURCE, "env:FERRY_LEDGER_URL"))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED);
              assertThat(f.getOriginalMessage()).startsWith("source.databaseUrl: env:FERRY_LEDGER_URL names one of Ferry's own settings");
            });
    assertNobodyKnocked();
  }

  @Test
  void aScratchReference_followsTheRuleOfItsInnerReference() throws IOException {
    assertThatThrownBy(() -> databases.resolve(Databases.TARGET, "scratch:ferry_rehearsal_1a2b3c4d@env:OTHER_APP_DATABASE_URL"))
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED));
    assertThatThrownBy(() -> databases.resolve(Databases.TARGET, "scratch:ferry_rehearsal_1a2b3c4d@env:FERRY_LEDGER_URL"))
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED));

    Endpoint allowed = databases.resolve(Databases.TARGET, "scratch:ferry_rehearsal_1a2b3c4d@env:SHOP_TARGET_URL");
    assertThat(allowed.url().database()).isEqualTo("ferry_rehearsal_1a2b3c4d");
    assertNobodyKnocked();
  }

  @Test
  void anAllowedReference_doesConnect_soTheListenerWouldHaveSeenARefusedOne() {
    // The control: the same socket is knocked on when the reference is allowed.
    Endpoint source = databases.resolve(Databases.SOURCE, "env:SHOP_SOURCE_URL");
    Thread knocker = new Thread(() -> {
      try {
        databases.connect(source, "ferry-test").close();
      } catch (Exception expected) {
        // The listener speaks no PostgreSQL.
      }
    });
    knocker.setDaemon(true);
    knocker.start();
    try {
      listener.setSoTimeout(30_000);
      listener.accept().close();
    } catch (IOException e) {
      throw new AssertionError("an allowed reference was not connected to", e);
    }
  }

  /** A connection attempt made before the call returned would be waiting in the backlog now. */
  private void assertNobodyKnocked() throws IOException {
    listener.setSoTimeout(1);
    try {
      listener.accept().close();
      throw new AssertionError("a refused reference was connected to");
    } catch (SocketTimeoutException expected) {
      // nobody
    }
  }
}

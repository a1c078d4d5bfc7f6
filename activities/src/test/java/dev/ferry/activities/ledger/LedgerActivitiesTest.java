package dev.ferry.activities.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.LedgerActivities;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ledger activity against a real ledger database on the local "rds" cluster. */
class LedgerActivitiesTest {
  static final TestCluster CLUSTER = TestCluster.TARGET;
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static String database;
  static LedgerDatabase ledger;

  TestActivityEnvironment env;
  LedgerActivities activities;

  @BeforeAll
  static void createLedger() throws Exception {
    database = TestCluster.uniqueDatabaseName("ferry_ledger_test");
    CLUSTER.createDatabase(database);
    ledger = LedgerDatabase.of(CLUSTER.url(database), Map.of());
    assertThat(ledger.migrate()).isPositive(); // every V*.sql, however many there are by now
  }

  @AfterAll
  static void dropLedger() throws Exception {
    CLUSTER.dropDatabase(database);
  }

  @BeforeEach
  void startEnvironment() {
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new LedgerActivitiesImpl(ledger));
    activities = env.newActivityStub(LedgerActivities.class);
  }

  @AfterEach
  void stopEnvironment() {
    env.close();
  }

  @Test
  void aRunStartedOutsideTheApi_getsItsRowFromTheFirstEvent() throws Exception {
    activities.recordRunEvent(event("r-ui", 1, RunEventType.STARTED, RunState.RUNNING, null, "someone-in-the-ui"));
    activities.recordRunEvent(event("r-ui", 2, RunEventType.STEP_STARTED, RunState.RUNNING, "preflight", null));

    assertThat(row("r-ui")).containsExactly("migration", "shop", "someone-in-the-ui", "temporal", "RUNNING", "preflight", "2");
    assertThat(eventTypes("r-ui")).containsExactly("STARTED", "STEP_STARTED");
  }

  @Test
  void theSameEventTwice_isRecordedOnce() throws Exception {
    RunEvent e = event("r-twice", 1, RunEventType.STARTED, RunState.RUNNING, null, "olivia");

    activities.recordRunEvent(e);
    activities.recordRunEvent(e);

    assertThat(eventTypes("r-twice")).containsExactly("STARTED");
  }

  @Test
  void anOlderEventArrivingLate_isKept_butDoesNotMoveTheStateBack() throws Exception {
    activities.recordRunEvent(event("r-late", 1, RunEventType.STARTED, RunState.RUNNING, null, "olivia"));
    activities.recordRunEvent(event("r-late", 3, RunEventType.GATE_OPENED, RunState.AWAITING_APPROVAL, "gate:start", null));
    activities.recordRunEvent(event("r-late", 2, RunEventType.STEP_FINISHED, RunState.RUNNING, "preflight", null));

    assertThat(row("r-late").get(4)).isEqualTo("AWAITING_APPROVAL");
    assertThat(eventTypes("r-late")).containsExactly("STARTED", "STEP_FINISHED", "GATE_OPENED");
  }

  @Test
  void aFinishedRun_staysFinished() throws Exception {
    activities.recordRunEvent(event("r-done", 1, RunEventType.STARTED, RunState.RUNNING, null, "olivia"));
    activities.recordRunEvent(event("r-done", 2, RunEventType.FINISHED, RunState.REJECTED, null, null));
    activities.recordRunEvent(event("r-done", 3, RunEventType.NOTE, RunState.RUNNING, null, null));

    assertThat(row("r-done").get(4)).isEqualTo("REJECTED");
  }

  @Test
  void anUnreachableLedger_failsRetryably_namingItWithoutThePassword() {
    LedgerDatabase down = LedgerDatabase.of("postgres://ferry:s3cret-pw@127.0.0.1:1/ferry", Map.of());
    TestActivityEnvironment other = TestActivityEnvironment.newInstance();
    try {
      other.registerActivitiesImplementations(new LedgerActivitiesImpl(down));
      LedgerActivities stub = other.newActivityStub(LedgerActivities.class);

      assertThatThrownBy(() -> stub.recordRunEvent(event("r-x", 1, RunEventType.STARTED, RunState.RUNNING, null, "o")))
          .rootCause()
          .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
            assertThat(f.getType()).isEqualTo(LedgerActivitiesImpl.LEDGER_UNAVAILABLE);
            assertThat(f.isNonRetryable()).isFalse();
            assertThat(f.getOriginalMessage()).contains("ferry@127.0.0.1:1/ferry").doesNotContain("s3cret-pw");
          });
    } finally {
      other.close();
    }
  }

  @Test
  void ledgerLocation_fromTheEnvironment_andRefusalsThatDoNotEchoIt() {
    assertThat(LedgerDatabase.of("env:LEDGER", Map.of("LEDGER", "postgres://u:pw@db:5432/ferry")).toString())
        .isEqualTo("u@db:5432/ferry");
    assertThatThrownBy(() -> LedgerDatabase.of("env:NOPE", Map.of())).hasMessageContaining("NOPE is not set");
    assertThatThrownBy(() -> LedgerDatabase.of("mysql://u:hunter2@db/x", Map.of()))
        .hasMessageContaining("not a PostgreSQL URL")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void migrate_again_changesNothing() {
    assertThat(ledger.migrate()).isZero();
  }

  static RunEvent event(String run, long seq, RunEventType type, RunState state, String step, String actor) {
    return new RunEvent(run, seq, T0.plusSeconds(seq), type, RunKind.MIGRATION, "shop", state, step, actor, type.name().toLowerCase(), null);
  }

  static List<String> row(String run) throws Exception {
    try (Connection c = ledger.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT kind, app, started_by, started_via, state, phase, last_seq FROM runs WHERE run_id = '" + run + "'")) {
      assertThat(rs.next()).as("a row for " + run).isTrue();
      List<String> out = new ArrayList<>();
      for (int i = 1; i <= 7; i++) {
        out.add(rs.getString(i));
      }
      return out;
    }
  }

  static List<String> eventTypes(String run) throws Exception {
    try (Connection c = ledger.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT type FROM run_events WHERE run_id = '" + run + "' ORDER BY at, id")) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.Pause;
import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The session lock a copy's plan attempts and a sync's appliers take one at a time, against a
 * real server: who holds it, how the waiter heartbeats, and when it gives up.
 */
class SessionLockTest {
  private static final Duration POLL = Duration.ofMillis(50);
  private static String database;

  private final List<Duration> pauses = new ArrayList<>();
  private final Pause recorded = pauses::add;
  private int heartbeats;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = TestCluster.uniqueDatabaseName("sessionlock");
    TestCluster.TARGET.createDatabase(database);
  }

  @AfterAll
  static void dropDatabase() throws Exception {
    TestCluster.TARGET.dropDatabase(database);
  }

  @Test
  void aFreeLock_isTakenAtTheFirstTry_withoutAPauseOrAHeartbeat() throws Exception {
    try (Connection c = TestCluster.TARGET.connect(database)) {
      assertThat(lock("copy_a").take(c, 3, POLL, recorded, () -> heartbeats++)).isTrue();

      assertThat(pauses).isEmpty();
      assertThat(heartbeats).isZero();
      assertThat(held(c)).isTrue();
    }
  }

  @Test
  void aLockAnotherSessionHolds_isGivenUpAfterItsTries_heartbeatingBetweenThem() throws Exception {
    try (Connection holder = TestCluster.TARGET.connect(database);
        Connection waiter = TestCluster.TARGET.connect(database)) {
      assertThat(lock("copy_b").take(holder, 1, POLL, recorded, () -> heartbeats++)).isTrue();

      assertThat(lock("copy_b").take(waiter, 3, POLL, recorded, () -> heartbeats++)).isFalse();

      // Three tries, a heartbeat and a pause between each two; the holder still holds it.
      assertThat(pauses).containsExactly(POLL, POLL);
      assertThat(heartbeats).isEqualTo(2);
      assertThat(held(waiter)).isFalse();
    }
  }

  @Test
  void anAttemptWhoseConnectionDropped_leavesTheLockToTheWaiter_whoWaitsWithoutALimit() throws Exception {
    Connection stale = TestCluster.TARGET.connect(database);
    try (Connection waiter = TestCluster.TARGET.connect(database)) {
      assertThat(lock("sync_c").take(stale, 1, POLL, recorded, () -> {})).isTrue();

      // Tries 0: until it holds it. The earlier attempt's connection closes at the third heartbeat.
      boolean taken =
          lock("sync_c")
              .take(waiter, 0, POLL, recorded, () -> {
                if (++heartbeats == 3) {
                  close(stale);
                }
              });

      assertThat(taken).isTrue();
      assertThat(heartbeats).isGreaterThanOrEqualTo(3);
      assertThat(held(waiter)).isTrue();
    } finally {
      close(stale);
    }
  }

  @Test
  void thePlanLocksClassAndASyncsSingleKey_areDifferentLocks_evenForOneName() throws Exception {
    try (Connection a = TestCluster.TARGET.connect(database);
        Connection b = TestCluster.TARGET.connect(database)) {
      assertThat(new SessionLock("1179801936, hashtext(?)", "ferry_x").take(a, 1, POLL, recorded, () -> {})).isTrue();

      assertThat(new SessionLock("hashtext(?)", "ferry_x").take(b, 1, POLL, recorded, () -> {})).isTrue();
      assertThat(new SessionLock("1179801936, hashtext(?)", "ferry_y").take(b, 1, POLL, recorded, () -> {})).isTrue();
      assertThat(new SessionLock("1179801936, hashtext(?)", "ferry_x").take(b, 1, POLL, recorded, () -> {})).isFalse();
    }
  }

  @Test
  void triesFor_waitsAboutTheWait_andAlwaysTriesOnce() {
    assertThat(SessionLock.triesFor(Duration.ofSeconds(30), POLL)).isEqualTo(601);
    assertThat(SessionLock.triesFor(Duration.ZERO, POLL)).isEqualTo(1);
    assertThat(SessionLock.triesFor(Duration.ofSeconds(1), Duration.ZERO)).isEqualTo(1001);
  }

  private static SessionLock lock(String name) {
    return new SessionLock("hashtext(?)", name);
  }

  /** Whether this session holds an advisory lock (it takes one at most here). */
  private static boolean held(Connection c) throws SQLException {
    try (var rs =
        c.createStatement()
            .executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted")) {
      rs.next();
      return rs.getLong(1) == 1;
    }
  }

  private static void close(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.ChangeFeed;
import dev.ferry.activities.postgres.ChangeFeed.ChangedKey;
import dev.ferry.model.Errors;
import dev.ferry.testing.Eventually;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;

/**
 * The logical method's key capture, read from the source's WAL against the real clusters: every
 * kind of write told with its key in the key's order and its transaction, a batch given up only
 * once the target recorded it, the frozen point read without consuming, and what cannot be told
 * exactly told as the whole table.
 */
@Timeout(120)
class LogicalChangeFeedTest {
  private static final String LEDGER = "ferry_verify_feedtest";

  private String source;
  private String target;
  private String name;
  private Connection s;
  private Connection t;
  private LogicalChangeFeed feed;

  @BeforeEach
  void setUp() throws Exception {
    source = TestCluster.uniqueDatabaseName("keys_src");
    target = TestCluster.uniqueDatabaseName("keys_tgt");
    TestCluster.SOURCE.createDatabase(source);
    TestCluster.TARGET.createDatabase(target);
    TestCluster.SOURCE.execute(
        source,
        "CREATE TABLE plain (id bigint PRIMARY KEY, v text)",
        // The key's order is not the columns' order.
        "CREATE TABLE pair (b text, a int, v text, PRIMARY KEY (a, b))",
        "CREATE TABLE whole (v text)",
        "ALTER TABLE whole REPLICA IDENTITY FULL",
        "CREATE TABLE coded (id int PRIMARY KEY, code text NOT NULL, v text)",
        "CREATE UNIQUE INDEX coded_code ON coded (code)",
        "ALTER TABLE coded REPLICA IDENTITY USING INDEX coded_code");
    TestCluster.TARGET.execute(target, "CREATE SCHEMA " + LEDGER);
    name = "ferry_sync_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "_keys";
    s = TestCluster.SOURCE.connect(source);
    t = TestCluster.TARGET.connect(target);
    feed = new LogicalChangeFeed(name, "ferry_slot_unused", LEDGER);
    feed.install(s, t);
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (s != null) {
        feed.remove(s);
        assertThat(TestCluster.SOURCE.queryLong(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'"))
            .as("the slot, once removed").isZero();
        s.close();
      }
      if (t != null) {
        t.close();
      }
    } finally {
      TestCluster.SOURCE.dropDatabase(source);
      TestCluster.TARGET.dropDatabase(target);
    }
  }

  @Test
  void everyWrite_isToldWithItsKeyInTheKeysOrderAndItsTransaction_andWhatCannotBeToldExactly_asTheWholeTable() throws Exception {
    String first = write(
        "INSERT INTO plain VALUES (1, 'a'), (2, 'b')",
        "UPDATE plain SET v = 'c' WHERE id = 1",
        "UPDATE plain SET id = 3 WHERE id = 2",
        "DELETE FROM plain WHERE id = 1");
    String second = write(
        "INSERT INTO pair VALUES ('x', 5, 'v')",
        "SAVEPOINT inner_one",
        "UPDATE pair SET b = 'y' WHERE a = 5",
        "RELEASE inner_one",
        "INSERT INTO whole VALUES ('w')",
        "UPDATE whole SET v = 'w2'",
        "INSERT INTO coded VALUES (7, 'seven', 'v')");
    String third = write(
        // The replica identity is not the primary key: an update cannot tell an old key.
        "UPDATE coded SET id = 8 WHERE id = 7",
        "TRUNCATE plain");

    ChangeFeed.Batch batch = feed.take(s, t, true, 10_000);

    assertThat(batch.more()).isFalse();
    assertThat(described(batch.keys()))
        .containsExactlyInAnyOrder(
            "plain [1] " + first, "plain [2] " + first, "plain [3] " + first,
            "pair [5, x] " + second, "pair [5, y] " + second,
            "whole [] " + second,
            "coded [7] " + second, "coded [] " + third,
            "plain [] " + third);
  }

  @Test
  void aTransactionWritingMoreKeysOfATableThanAreHeldAtOnce_countsAsTheWholeTable() throws Exception {
    String big = write(
        "INSERT INTO plain SELECT g, 'v' FROM generate_series(1, " + (PgOutputKeys.KEYS_PER_TABLE + 1) + ") g",
        "INSERT INTO pair VALUES ('x', 1, 'v')");

    assertThat(described(feed.take(s, t, true, 10_000).keys())).containsExactlyInAnyOrder("plain [] " + big, "pair [1, x] " + big);
  }

  @Test
  void aBatch_isGivenUpOnlyOnceTheTargetCommittedIt() throws Exception {
    String created = slotPosition();
    String first = write("INSERT INTO plain VALUES (1, 'a')");
    t.setAutoCommit(false);

    assertThat(described(feed.take(s, t, true, 10_000).keys())).containsExactly("plain [1] " + first);
    t.rollback(); // a worker that died before the ledger's copy committed
    assertThat(described(feed.take(s, t, true, 10_000).keys())).as("taken again").containsExactly("plain [1] " + first);
    t.commit();
    String second = write("INSERT INTO plain VALUES (2, 'b')");
    assertThat(described(feed.take(s, t, true, 10_000).keys())).containsExactly("plain [2] " + second);
    t.commit();
    assertThat(feed.take(s, t, true, 10_000).keys()).isEmpty();
    t.commit();
    assertThat(TestCluster.SOURCE.queryLong(
            source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "' AND confirmed_flush_lsn > '" + created + "'"))
        .as("the slot moved up to what the target recorded").isOne();
  }

  @Test
  void atTheFrozenPoint_everythingNotYetRecordedIsRead_andNothingIsGivenUp() throws Exception {
    write("INSERT INTO plain VALUES (1, 'a')");
    feed.take(s, t, true, 10_000);
    String later = write("UPDATE plain SET v = 'b' WHERE id = 1", "INSERT INTO plain VALUES (2, 'c')");
    String slotBefore = slotPosition();

    List<String> frozen = described(feed.take(s, t, false, Integer.MAX_VALUE).keys());

    assertThat(frozen).containsExactlyInAnyOrder("plain [1] " + later, "plain [2] " + later);
    assertThat(described(feed.take(s, t, false, Integer.MAX_VALUE).keys())).as("read again").isEqualTo(frozen);
    assertThat(slotPosition()).isEqualTo(slotBefore);
  }

  /**
   * A quiet source flushes what a rolled-back transaction wrote only at its next commit or its
   * background writer's next standby snapshot (every 15 s), and decoding reads only flushed WAL.
   * Each round leaves such a record past the last commit; three in a row cannot all be rescued by
   * the background writer within the wait.
   */
  @Test
  void atTheFrozenPoint_walWrittenAfterTheLastCommit_isFlushedWithoutWaitingForTheNextCommit() throws Exception {
    LogicalChangeFeed patient =
        new LogicalChangeFeed(
            name, "ferry_slot_unused", LEDGER,
            new LogicalChangeFeed.Waits(LogicalChangeFeed.Waits.DEFAULT.slotCreation(), LogicalChangeFeed.Waits.DEFAULT.slotInUse(), Duration.ofSeconds(4)));
    for (int round = 1; round <= 3; round++) {
      String wrote = write("INSERT INTO plain VALUES (" + round + ", 'v')");
      String unflushed = writeAfterTheLastCommit();

      assertThat(described(patient.take(s, t, false, Integer.MAX_VALUE).keys())).as("round " + round).contains("plain [" + round + "] " + wrote);
      assertThat(TestCluster.SOURCE.queryLong(source, "SELECT (pg_current_wal_flush_lsn() >= '" + unflushed + "'::pg_lsn)::int"))
          .as("flushed through the record past the last commit").isOne();
    }
  }

  /** The subscription is sent only what the source flushed: the feed sees that its marker will be. */
  @Test
  void aMarkerPastTheLastCommit_isReachedByTheSubscriptionWithoutWaitingForTheNextCommit() throws Exception {
    String subscription = "ferry_slot_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    TestCluster.SOURCE.execute(source, "SELECT pg_create_logical_replication_slot('" + subscription + "', 'test_decoding')");
    try {
      LogicalChangeFeed subscribed = new LogicalChangeFeed(name, subscription, LEDGER);
      for (int round = 1; round <= 3; round++) {
        write("INSERT INTO plain VALUES (" + round + ", 'v')");
        writeAfterTheLastCommit();
        String marker = queryString("SELECT pg_current_wal_insert_lsn()::text");

        // A subscriber that confirms everything it is sent: decoding stops at what is flushed. The
        // source's WAL writer takes up to wal_writer_delay (200 ms); its background writer, 15 s.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        boolean included = false;
        while (!included && System.nanoTime() < deadline) {
          TestCluster.SOURCE.execute(source, "SELECT pg_replication_slot_advance('" + subscription + "', pg_current_wal_insert_lsn())");
          included = subscribed.targetIncludes(s, null, marker);
          Thread.sleep(20);
        }
        assertThat(included).as("round " + round + ": the subscription past the marker within 5 s").isTrue();
      }
    } finally {
      TestCluster.SOURCE.execute(source, "SELECT pg_drop_replication_slot('" + subscription + "')");
    }
  }

  @Test
  void aTakeUpToItsLimit_saysThereIsMore_andTheRestFollows() throws Exception {
    for (int i = 1; i <= 30; i++) {
      write("INSERT INTO plain VALUES (" + i + ", 'v')");
    }
    List<ChangedKey> all = new ArrayList<>();
    int takes = 0;
    ChangeFeed.Batch batch;
    do {
      batch = feed.take(s, t, true, 20);
      all.addAll(batch.keys());
      takes++;
    } while (batch.more());

    assertThat(takes).isGreaterThan(1);
    assertThat(all.stream().map(k -> k.key().get(0)).distinct()).hasSize(30);
  }

  @Test
  void aSlotDroppedByHand_failsTheTakeNamingIt() throws Exception {
    TestCluster.SOURCE.execute(source, "SELECT pg_drop_replication_slot('" + name + "')");

    assertThatThrownBy(() -> feed.take(s, t, true, 10_000)).hasMessageContaining(name).hasMessageContaining("gone");
  }

  @Test
  void aRunOfAnOlderFerry_stillReadsTheKeysItsTriggersCaptured() throws Exception {
    feed.remove(s);
    TestCluster.SOURCE.execute(
        source,
        "CREATE SCHEMA " + name,
        "CREATE TABLE " + name + ".touched (rel oid NOT NULL, key text[], xid xid8 NOT NULL DEFAULT pg_current_xact_id())",
        "INSERT INTO " + name + ".touched (rel, key) VALUES ('plain'::regclass, '{4}')");

    assertThat(feed.take(s, t, true, 10_000).keys()).singleElement().satisfies(k -> assertThat(k.key()).containsExactly("4"));
    assertThat(feed.take(s, t, true, 10_000).keys()).as("consumed").isEmpty();
  }

  @Test
  void aTableTheWalCannotTell_failsTheInstallNamingIt_beforeAnythingIsMade() throws Exception {
    feed.remove(s);
    TestCluster.SOURCE.execute(source, "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)", "CREATE TABLE loose (v text)");

    assertThatThrownBy(() -> feed.install(s, t)).hasMessageContaining("public.scratch").hasMessageContaining("public.loose");
    assertThat(captureObjectsLeft()).isZero();
  }

  @Test
  void aTransactionLongOpenOnTheSource_failsTheSlotsCreationForAnotherAttempt_andOnceItEndsTheSlotIsMade() throws Exception {
    feed.remove(s);
    LogicalChangeFeed waiting =
        new LogicalChangeFeed(
            name, "ferry_slot_unused", LEDGER, new LogicalChangeFeed.Waits(Duration.ofMillis(500), LogicalChangeFeed.Waits.DEFAULT.slotInUse(), LogicalChangeFeed.Waits.DEFAULT.flush()));
    try (Connection app = TestCluster.SOURCE.connect(source)) {
      app.setAutoCommit(false);
      try (Statement st = app.createStatement()) {
        st.execute("INSERT INTO plain VALUES (1, 'open')");
      }

      assertThatThrownBy(() -> waiting.install(s, t))
          .isInstanceOf(ApplicationFailure.class)
          .hasMessageContaining("transactions open on the source")
          .satisfies(e -> assertThat(((ApplicationFailure) e).getType())
              .isEqualTo(Errors.SOURCE_BUSY)
              .isNotIn(Errors.NON_RETRYABLE));
      app.commit();
    }
    // Another attempt (the usual wait: other tests' transactions on the cluster count too).
    feed.install(s, t);

    assertThat(TestCluster.SOURCE.queryLong(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isOne();
  }

  @Test
  void aSessionStillReadingTheKeySlot_makesATakeWaitThenFailAsSourceBusy_andOnceItStopsNoKeyIsLost() throws Exception {
    String first = write("INSERT INTO plain VALUES (1, 'a')");
    LogicalChangeFeed impatient =
        new LogicalChangeFeed(
            name, "ferry_slot_unused", LEDGER, new LogicalChangeFeed.Waits(LogicalChangeFeed.Waits.DEFAULT.slotCreation(), Duration.ofMillis(600), LogicalChangeFeed.Waits.DEFAULT.flush()));
    // In the fold's own transaction on the source, as the pre-verification takes.
    s.setAutoCommit(false);
    try (Connection lost = streamTheSlot()) {
      assertThatThrownBy(() -> impatient.take(s, t, true, 10_000))
          .isInstanceOf(ApplicationFailure.class)
          .hasMessageContaining(name)
          .hasMessageContaining("another session")
          .satisfies(e -> assertThat(((ApplicationFailure) e).getType()).isEqualTo(Errors.SOURCE_BUSY).isNotIn(Errors.NON_RETRYABLE));
    }
    awaitSlotFree();

    // The same connection serves the next attempt: the refused transaction was rolled back.
    assertThat(described(impatient.take(s, t, true, 10_000).keys())).containsExactly("plain [1] " + first);
    s.commit();
    s.setAutoCommit(true);
  }

  @Test
  void aSlotAnotherSessionStillReads_failsTheInstallAsSourceBusy_andOnceItStopsTheInstallSucceeds() throws Exception {
    try (Connection lost = streamTheSlot()) {
      assertThatThrownBy(() -> feed.install(s, t))
          .isInstanceOf(ApplicationFailure.class)
          .hasMessageContaining(name)
          .hasMessageContaining("in use by another session")
          .satisfies(e -> assertThat(((ApplicationFailure) e).getType()).isEqualTo(Errors.SOURCE_BUSY).isNotIn(Errors.NON_RETRYABLE));
    }
    awaitSlotFree();

    feed.install(s, t);
    String later = write("INSERT INTO plain VALUES (2, 'b')");
    assertThat(described(feed.take(s, t, true, 10_000).keys())).containsExactly("plain [2] " + later);
  }

  @Test
  void removal_endsTheSessionStillReadingTheSlot_andLeavesNothing() throws Exception {
    try (Connection lost = streamTheSlot()) {
      long reader =
          TestCluster.SOURCE.queryLong(source, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + name + "'");
      feed.remove(s);

      assertThat(captureObjectsLeft()).isZero();
      assertThat(TestCluster.SOURCE.queryLong(source, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + reader))
          .as("the reading session was ended").isZero();
    }
  }

  @Test
  void a32BitTransactionId_takesTheEpochOfTheLatestSuchIdBeforeTheNextOne() {
    assertThat(LogicalChangeFeed.fullXid(100, (3L << 32) + 200)).isEqualTo((3L << 32) + 100);
    // Decoded before the epoch turned over.
    assertThat(LogicalChangeFeed.fullXid(0xFFFF_FFF0L, (3L << 32) + 5)).isEqualTo((2L << 32) + 0xFFFF_FFF0L);
  }

  /**
   * Runs the statements in one transaction, committed to disk (the test clusters commit
   * asynchronously: decoding reads flushed WAL only); its id as {@code xid8} text.
   */
  private String write(String... statements) throws Exception {
    try (Connection c = TestCluster.SOURCE.connect(source)) {
      c.setAutoCommit(false);
      String xid;
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL synchronous_commit = on");
        for (String sql : statements) {
          st.execute(sql);
        }
        try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text")) {
          rs.next();
          xid = rs.getString(1);
        }
      }
      c.commit();
      return xid;
    }
  }

  /**
   * A session streaming the key capture's slot over a replication connection, as a lost attempt's
   * walsender would: the slot is active until the connection closes.
   */
  private Connection streamTheSlot() throws Exception {
    Properties p = new Properties();
    PGProperty.USER.set(p, TestCluster.USER);
    PGProperty.PASSWORD.set(p, TestCluster.PASSWORD);
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
    PGProperty.REPLICATION.set(p, "database");
    PGProperty.PREFER_QUERY_MODE.set(p, "simple");
    Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + TestCluster.SOURCE.port() + "/" + source, p);
    c.unwrap(PGConnection.class)
        .getReplicationAPI()
        .replicationStream()
        .logical()
        .withSlotName(name)
        .withSlotOption("proto_version", "1")
        .withSlotOption("publication_names", name)
        .start();
    Eventually.get("the slot to be read by the other session", () -> activeSessions(), n -> n == 1);
    return c;
  }

  private String queryString(String sql) throws Exception {
    try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * A WAL record that nothing flushes: written in a transaction that then rolls back, as a read's
   * page pruning in a read-only transaction ended by a rollback (a commit, even of one that took
   * no id, has the WAL writer flush what it wrote). Its end.
   */
  private String writeAfterTheLastCommit() throws Exception {
    // Another database's commit (autovacuum's, say) may flush it at once: then write another.
    for (int attempt = 1; ; attempt++) {
      String end;
      try (Connection c = TestCluster.SOURCE.connect(source); Statement st = c.createStatement()) {
        c.setAutoCommit(false);
        try (ResultSet rs = st.executeQuery("SELECT pg_logical_emit_message(false, 'ferry-test', 'unflushed')::text")) {
          rs.next();
          end = rs.getString(1);
        }
        c.rollback();
      }
      boolean unflushed =
          TestCluster.SOURCE.queryLong(source, "SELECT (pg_current_wal_flush_lsn() < '" + end + "'::pg_lsn)::int") == 1;
      if (unflushed) {
        return end;
      }
      assertThat(attempt).as("a record not yet flushed, in one of 10 tries").isLessThan(10);
    }
  }

  private void awaitSlotFree() {
    Eventually.get("the other session to let the slot go", () -> activeSessions(), n -> n == 0);
  }

  private long activeSessions() {
    try {
      return TestCluster.SOURCE.queryLong(
          source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "' AND active_pid IS NOT NULL");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The key capture's slot, publication and schema still on the source. */
  private long captureObjectsLeft() throws Exception {
    return TestCluster.SOURCE.queryLong(
        source,
        "SELECT (SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "')"
            + " + (SELECT count(*) FROM pg_namespace WHERE nspname = '" + name + "')"
            + " + (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "')");
  }

  private String slotPosition() throws Exception {
    try (Statement st = s.createStatement();
        ResultSet rs = st.executeQuery("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + name + "'")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static List<String> described(List<ChangedKey> keys) {
    return keys.stream().map(k -> k.table() + " " + k.key() + " " + k.xid()).toList();
  }
}

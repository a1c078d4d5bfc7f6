package dev.ferry.activities.sync;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.ChangeFeed;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * For the logical method, which captures nothing a pre-verification could read: the changed keys
 * read from the source's WAL, beside the subscription. A second logical replication slot on the
 * source, {@code ferry_sync_<tag>_keys} (named after the sync, so that its drain finds it:
 * {@link LogicalSync#drain}), decodes through a publication of the same name that lists every app
 * table with only its key columns ({@link PgOutputKeys} reads the messages). Nothing runs in the
 * app's transactions: the decoding happens in the pre-verification's own session, within its
 * throttle. The schema of that name on the source marks the capture for the sweep.
 *
 * <p>Why it is exact: every committed change of an app table is in the WAL with its transaction,
 * and the slot decodes every transaction that commits after it was created; the publication came
 * first, and the slot's creation waits for the transactions then running, so a change it misses
 * committed before any proof. The slot gives up a transaction only once the target has recorded
 * its keys: {@link #take} reads without consuming ({@code peek}) and records on the target how
 * far it read, in the caller's transaction; the next take moves the slot up to that record. A
 * crash in between takes a batch twice, never not at all. At the frozen point the final verify
 * reads all that is left, once the WAL the source wrote is flushed.
 *
 * <p>Why the target then holds every change a source snapshot holds: each such change committed
 * before the WAL position read in that snapshot, and the subscription's slot confirms a position
 * only once the subscriber has committed everything before it.
 *
 * <p>Runs pre-verified by an older Ferry captured keys with triggers into {@code touched} in that
 * schema; such a run still reads them there.
 */
final class LogicalChangeFeed implements ChangeFeed {
  private static final int TABLES_PER_STATEMENT = 100;
  /** Tries to end the session holding the slot at its removal (each waits up to 5 s for it to go). */
  private static final int SLOT_DROP_TRIES = 10;
  private static final Duration SLOT_BUSY_PAUSE = Duration.ofMillis(200);

  /**
   * How long the feed waits on the source before it fails the attempt as {@link Errors#SOURCE_BUSY}
   * (the activity retries), each within the activity's heartbeat timeout.
   *
   * @param slotCreation the slot's creation, for the transactions open on the source to end
   * @param slotInUse a read of the slot, for another session still reading it to stop
   * @param flush the frozen point's read, for the source to flush its WAL up to the point
   */
  record Waits(Duration slotCreation, Duration slotInUse, Duration flush) {
    static final Waits DEFAULT = new Waits(Duration.ofSeconds(20), Duration.ofSeconds(10), Duration.ofSeconds(30));
  }

  private final String schema;
  private final String slot;
  private final String position;
  private final Waits waits;
  private Map<Integer, List<String>> primaryKeys;
  /** The last marker {@link #targetIncludes} asked the source to flush through. */
  private String flushAsked;

  /**
   * @param schema the capture's name on the source: its schema, slot and publication
   * @param slot the subscription's slot
   * @param verifySchema the pre-verification's schema on the target, where the feed records how far
   *     it read (null: only removing)
   */
  LogicalChangeFeed(String schema, String slot, String verifySchema) {
    this(schema, slot, verifySchema, Waits.DEFAULT);
  }

  LogicalChangeFeed(String schema, String slot, String verifySchema, Waits waits) {
    this.schema = schema;
    this.slot = slot;
    this.position = verifySchema == null ? null : verifySchema + ".key_feed";
    this.waits = waits;
  }

  /** The capture's name on the source (schema, slot, publication): named after the sync, so that its drain finds it. */
  static String schemaFor(SyncSession session) {
    return session.schema() + "_keys";
  }

  /** Whether this sync's key capture is installed (a pre-verified run). */
  static boolean installed(LogicalSide source, SyncSession session) {
    String name = schemaFor(session);
    return source
        .queryOne(
            "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND database = current_database())"
                + " OR to_regclass(?) IS NOT NULL",
            rs -> rs.getBoolean(1),
            name,
            name + ".touched")
        .orElse(false);
  }

  /** The schema, the publication with every app table's key, the slot (in that order); the target's record. */
  @Override
  public void install(Connection source, Connection target) throws SQLException {
    try (Statement st = target.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + position + " (slot text PRIMARY KEY, lsn pg_lsn NOT NULL)");
    }
    if (legacy(source)) {
      // Set up by an older Ferry, and nothing proven yet (else this is not called): set up anew.
      remove(source);
    }
    List<String> entries = publicationEntries(source);
    try (Statement st = source.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      st.execute("COMMENT ON SCHEMA " + schema + " IS 'Ferry: marks the replication slot and publication " + schema
          + " that read the keys changed during a verification under way; all dropped when the run ends'");
      if (!exists(source, "SELECT 1 FROM pg_publication WHERE pubname = ?", schema)) {
        st.execute("CREATE PUBLICATION " + schema);
      }
      for (int i = 0; i < entries.size(); i += TABLES_PER_STATEMENT) {
        st.execute("ALTER PUBLICATION " + schema + " ADD TABLE "
            + String.join(", ", entries.subList(i, Math.min(entries.size(), i + TABLES_PER_STATEMENT))));
      }
    }
    createSlot(source);
  }

  /**
   * The publication's entries not in it yet: every app table with its key columns (whole, where
   * the replica identity is every column, or the server too old for column lists). Fails, before
   * anything is made, naming the tables whose changes the WAL cannot tell.
   */
  private List<String> publicationEntries(Connection source) throws SQLException {
    List<String> unpublishable = new ArrayList<>();
    List<String> entries = new ArrayList<>();
    boolean columnLists = Catalog.serverVersion(source) >= 150000;
    try (Statement st = source.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relreplident, c.relpersistence,"
                    + " (SELECT string_agg(DISTINCT quote_ident(a.attname), ', ') FROM pg_index i"
                    + "   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)"
                    + "   WHERE i.indrelid = c.oid AND (i.indisprimary OR (c.relreplident = 'i' AND i.indisreplident))),"
                    + " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid"
                    + "   AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))),"
                    + " EXISTS (SELECT 1 FROM pg_publication p JOIN pg_publication_rel r ON r.prpubid = p.oid"
                    + "   WHERE p.pubname = '" + schema + "' AND r.prrelid = c.oid)"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.relkind = 'r' AND " + Catalog.USER_RELATION_FILTER + " ORDER BY 1")) {
      while (rs.next()) {
        String table = rs.getString(1);
        char identity = rs.getString(2).charAt(0);
        if (!rs.getString(3).equals("p") || identity == 'n' || (identity != 'f' && !rs.getBoolean(5))) {
          unpublishable.add(table);
        } else if (!rs.getBoolean(6)) {
          entries.add(table + (identity == 'f' || !columnLists ? "" : " (" + rs.getString(4) + ")"));
        }
      }
    }
    if (!unpublishable.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the source's WAL cannot tell the changed rows of " + String.join(", ", unpublishable.subList(0, Math.min(20, unpublishable.size())))
              + (unpublishable.size() > 20 ? " and " + (unpublishable.size() - 20) + " more" : "")
              + " (unlogged, or without a primary key or replica identity): the logical sync needs them too"
              + " (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)",
          Errors.SYNC_REFUSED);
    }
    return entries;
  }

  /**
   * The slot, once the publication is there. Its creation waits for the transactions running on
   * the source; one open for long fails this attempt, saying so (the activity retries).
   */
  private void createSlot(Connection source) throws SQLException {
    if (exists(source, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL", schema)) {
      // Still being made by an attempt that lost its worker: not to be read before it is complete.
      throw ApplicationFailure.newFailure(
          "the key capture's replication slot " + schema + " is in use by another session: tried again", Errors.SOURCE_BUSY);
    }
    if (slotExists(source)) {
      return;
    }
    try (Statement st = source.createStatement()) {
      st.execute("SET statement_timeout = " + waits.slotCreation().toMillis());
      try {
        st.execute("SELECT pg_create_logical_replication_slot('" + schema + "', 'pgoutput')");
      } catch (SQLException e) {
        if ("57014".equals(e.getSQLState())) {
          throw ApplicationFailure.newFailure(
              "the key capture's replication slot waited " + waits.slotCreation().toMillis()
                  + " ms for the transactions open on the source to end (see pg_stat_activity's xact_start): tried again",
              Errors.SOURCE_BUSY);
        }
        throw e;
      } finally {
        st.execute("RESET statement_timeout");
      }
    }
  }

  @Override
  public void forgetEarlier(Connection source, Connection target) throws SQLException {
    // The slot's first changes concern no proof; taken anyway, each only re-checks a row. (A run
    // of an older Ferry passed this point with its triggers.)
  }

  @Override
  public String markerSql() {
    // Read after the snapshot was taken: every transaction it holds committed before this position.
    return "pg_current_wal_insert_lsn()::text";
  }

  @Override
  public boolean targetIncludes(Connection source, String snapshot, String marker) throws SQLException {
    boolean included;
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()")) {
      ps.setString(1, marker);
      ps.setString(2, slot);
      try (ResultSet rs = ps.executeQuery()) {
        included = rs.next() && rs.getBoolean(1);
      }
    }
    // The subscription is sent only what the source has flushed: once per marker, see that it will be.
    if (!included && !marker.equals(flushAsked)) {
      flushAsked = marker;
      askToFlush(source, marker);
    }
    return included;
  }

  @Override
  public Batch take(Connection source, Connection target, boolean consume, int limit) throws SQLException {
    if (!slotExists(source)) {
      if (legacy(source)) {
        return takeTouched(source, consume, limit);
      }
      throw ApplicationFailure.newNonRetryableFailure(
          "the key capture's replication slot " + schema + " is gone from the source: the changes since cannot be"
              + " told, so the pre-verification cannot stand (was it dropped by hand?)",
          Errors.VERIFICATION_FAILED);
    }
    long recorded = recorded(target);
    if (consume) {
      advanceTo(source, recorded);
    } else {
      // The frozen point: every commit before it is in the WAL, and decoding reads what is flushed.
      awaitFlushed(source);
    }
    PgOutputKeys keys = new PgOutputKeys(primaryKeys(source));
    int rows = peek(source, consume ? limit : 0, keys);
    List<ChangedKey> changed = new ArrayList<>();
    long last = recorded;
    long nextXid = keys.transactions().isEmpty() ? 0 : nextXid(source);
    for (PgOutputKeys.Transaction t : keys.transactions()) {
      if (Long.compareUnsigned(t.endLsn(), recorded) <= 0) {
        continue; // recorded already: the slot had not moved up to it yet
      }
      String xid = Long.toUnsignedString(fullXid(t.xid(), nextXid));
      for (PgOutputKeys.Touched k : t.touched()) {
        changed.add(new ChangedKey(k.schema(), k.table(), k.key(), xid));
      }
      last = t.endLsn();
    }
    if (consume && last != recorded) {
      try (PreparedStatement ps =
          target.prepareStatement(
              "INSERT INTO " + position + " (slot, lsn) VALUES (?, ?::pg_lsn) ON CONFLICT (slot) DO UPDATE SET lsn = excluded.lsn")) {
        ps.setString(1, schema);
        ps.setString(2, lsn(last));
        ps.executeUpdate();
      }
    }
    return new Batch(changed, consume && rows >= limit);
  }

  @Override
  public List<ChangedKey> unappliedAfter(Connection source, String snapshot) {
    // A change the snapshot does not hold that the target may already have applied: the
    // subscription reads flushed WAL only, so it was flushed before the target's snapshot, and
    // the take that follows that snapshot (which reads up to the flushed end) has it already.
    return List.of();
  }

  /**
   * Drops the slot (ending a session still reading it), the publication, the triggers of a run
   * of an older Ferry, then the schema that marked them. Removing what is gone succeeds.
   */
  @Override
  public void remove(Connection source) throws SQLException {
    if (!LogicalSource.dropSlot(source, schema, () -> Pause.SLEEP.pause(SLOT_BUSY_PAUSE), SLOT_DROP_TRIES)) {
      throw ApplicationFailure.newFailure(
          "the key capture's replication slot " + schema + " is still held by another session after "
              + SLOT_DROP_TRIES + " tries to end it: tried again",
          Errors.SOURCE_BUSY);
    }
    try (Statement st = source.createStatement()) {
      st.execute("DROP PUBLICATION IF EXISTS " + schema);
    }
    List<String> triggers = new ArrayList<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT quote_ident(t.tgname) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(r.relname)"
                + " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE t.tgname IN (?, ?)")) {
      ps.setString(1, schema);
      ps.setString(2, schema + "_t");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
        }
      }
    }
    try (Statement st = source.createStatement()) {
      st.execute("SET lock_timeout = '10s'");
      for (String trigger : triggers) {
        st.execute("DROP TRIGGER IF EXISTS " + trigger);
      }
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      st.execute("RESET lock_timeout");
    }
  }

  // ---- the slot -------------------------------------------------------------------------------

  /** Moves the slot up to what the target recorded (a committed record: its keys are in the ledger). */
  private void advanceTo(Connection source, long recorded) throws SQLException {
    if (recorded == 0) {
      return;
    }
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT pg_replication_slot_advance(slot_name, ?::pg_lsn) FROM pg_replication_slots"
                + " WHERE slot_name = ? AND confirmed_flush_lsn < ?::pg_lsn")) {
      ps.setString(1, lsn(recorded));
      ps.setString(2, schema);
      ps.setString(3, lsn(recorded));
      whileBusy(source, ps::execute);
    }
  }

  /** Decodes up to {@code limit} rows ({@code 0}: every one) from the slot, without consuming; the rows read. */
  private int peek(Connection source, int limit, PgOutputKeys keys) throws SQLException {
    int[] rows = {0};
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT data FROM pg_logical_slot_peek_binary_changes(?, NULL, ?, 'proto_version', '1', 'publication_names', ?)")) {
      ps.setString(1, schema);
      if (limit > 0) {
        ps.setInt(2, limit);
      } else {
        ps.setNull(2, java.sql.Types.INTEGER);
      }
      ps.setString(3, schema);
      if (!source.getAutoCommit()) {
        ps.setFetchSize(1000);
      }
      whileBusy(
          source,
          () -> {
            rows[0] = 0;
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                keys.accept(rs.getBytes(1));
                rows[0]++;
              }
            }
          });
    }
    return rows[0];
  }

  /** Waits until the source has flushed the WAL written up to now, having asked it to ({@link #askToFlush}). */
  private void awaitFlushed(Connection source) throws SQLException {
    long deadline = System.nanoTime() + waits.flush().toNanos();
    try (Statement st = source.createStatement()) {
      String written;
      try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
        rs.next();
        written = rs.getString(1);
      }
      askToFlush(source, written);
      while (true) {
        try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_flush_lsn() >= '" + written + "'::pg_lsn")) {
          rs.next();
          if (rs.getBoolean(1)) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw ApplicationFailure.newFailure(
              "the source had not flushed its WAL up to " + written + " after " + waits.flush().toSeconds() + " s: tried again",
              Errors.SOURCE_BUSY);
        }
        Pause.SLEEP.pause(Duration.ofMillis(5));
      }
    }
  }

  /**
   * Has the source flush its WAL through {@code lsn} soon, if it has not. A transaction's end
   * flushes what it wrote (or, asynchronous, has the WAL writer flush it within {@code
   * wal_writer_delay}), but not a rollback: what a transaction that rolled back wrote (a page a
   * read pruned) waits for the next commit, or for the background writer's next standby
   * snapshot, on a quiet source up to 15 s. Decoding, the subscription's and this feed's, reads
   * only flushed WAL. A transaction that takes an id and commits writes no row, only its commit
   * record, and has the WAL writer flush through it. Only on a connection in autocommit: in a
   * transaction, the commit would come after the wait for it.
   */
  private static void askToFlush(Connection source, String lsn) throws SQLException {
    if (!source.getAutoCommit()) {
      return;
    }
    try (PreparedStatement ps = source.prepareStatement("SELECT pg_current_wal_flush_lsn() >= ?::pg_lsn")) {
      ps.setString(1, lsn);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getBoolean(1)) {
          return;
        }
      }
    }
    try (Statement st = source.createStatement()) {
      st.execute("SELECT pg_current_xact_id()");
    }
  }

  /**
   * Another session reads the slot (a pre-verification's last attempt still stopping): waits for
   * it, then fails the attempt as {@link Errors#SOURCE_BUSY}, naming the slot.
   */
  private void whileBusy(Connection source, SqlStep step) throws SQLException {
    long deadline = System.nanoTime() + waits.slotInUse().toNanos();
    while (true) {
      try {
        step.run();
        return;
      } catch (SQLException e) {
        if (!busy(e)) {
          throw e;
        }
        if (!source.getAutoCommit()) {
          // The refusal ended the transaction, which held only the feed's reads.
          source.rollback();
        }
        if (System.nanoTime() > deadline) {
          throw ApplicationFailure.newFailure(
              "the key capture's replication slot " + schema + " is still read by another session (pid in"
                  + " pg_replication_slots.active_pid) after " + waits.slotInUse().toMillis() + " ms: tried again",
              Errors.SOURCE_BUSY);
        }
        Pause.SLEEP.pause(SLOT_BUSY_PAUSE);
      }
    }
  }

  private static boolean busy(SQLException e) {
    return "55006".equals(e.getSQLState());
  }

  @FunctionalInterface
  private interface SqlStep {
    void run() throws SQLException;
  }

  private boolean slotExists(Connection source) throws SQLException {
    return LogicalSource.slotExists(source, schema);
  }

  /** Where the target's record says the feed read up to (0: nowhere yet). */
  private long recorded(Connection target) throws SQLException {
    try (PreparedStatement ps = target.prepareStatement("SELECT (lsn - '0/0'::pg_lsn)::text FROM " + position + " WHERE slot = ?")) {
      ps.setString(1, schema);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new java.math.BigDecimal(rs.getString(1)).longValueExact() : 0;
      }
    }
  }

  /** Each table's primary key columns by oid, read once per feed (a table made since has none here: whole). */
  private Map<Integer, List<String>> primaryKeys(Connection source) throws SQLException {
    if (primaryKeys == null) {
      Map<Integer, List<String>> keys = new HashMap<>();
      for (CapturedTable t : CapturedTable.readKeys(source).values()) {
        keys.put((int) t.oid(), t.keyColumns());
      }
      primaryKeys = keys;
    }
    return primaryKeys;
  }

  /** The next transaction id to be given, 64 bits wide: the epoch of the 32-bit ids decoded. */
  private static long nextXid(Connection source) throws SQLException {
    try (Statement st = source.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")) {
      rs.next();
      return Long.parseUnsignedLong(rs.getString(1));
    }
  }

  /** A committed transaction's 64-bit id from its 32 bits: the latest such id before {@code next}. */
  static long fullXid(long xid32, long next) {
    long behind = ((next & 0xFFFF_FFFFL) - xid32) & 0xFFFF_FFFFL;
    return next - behind;
  }

  private static String lsn(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
  }

  private static boolean exists(Connection c, String sql, String parameter) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, parameter);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  // ---- a run of an older Ferry: keys captured by triggers ------------------------------------

  /** Whether this run's keys are captured by the triggers of an older Ferry (a {@code touched} table, no slot). */
  private boolean legacy(Connection source) throws SQLException {
    return !slotExists(source) && exists(source, "SELECT 1 WHERE to_regclass(?) IS NOT NULL", schema + ".touched");
  }

  private Batch takeTouched(Connection source, boolean consume, int limit) throws SQLException {
    String rows =
        consume
            ? "(DELETE FROM " + schema + ".touched WHERE ctid = ANY (ARRAY(SELECT ctid FROM " + schema + ".touched LIMIT "
                + limit + ")) RETURNING rel, key, xid)"
            : "(SELECT rel, key, xid FROM " + schema + ".touched)";
    List<ChangedKey> keys = TriggerChangeFeed.changedKeys(source, "WITH d AS " + rows + TriggerChangeFeed.SELECT_KEYS);
    return new Batch(keys, consume && keys.size() >= limit);
  }
}

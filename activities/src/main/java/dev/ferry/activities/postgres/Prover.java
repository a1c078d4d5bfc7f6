package dev.ferry.activities.postgres;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.ChangeFeed.ChangedKey;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;

/**
 * Compares chunks, or a table's changed keys, on both sides and records in the {@link
 * VerifyLedger} what the comparison proves. One comparison:
 *
 * <ol>
 *   <li>on the source, in one repeatable-read transaction: its snapshot S (and the feed's marker,
 *       such as the WAL position), then the checksums or row hashes;
 *   <li>wait until the target has applied every change S holds ({@link
 *       ChangeFeed#targetIncludes});
 *   <li>on the target, in one repeatable-read transaction: its snapshot T, then the same;
 *   <li>take the captured changes into the ledger: every change the target may hold beyond S
 *       committed before T, so it is there now. The keys changed on the source after S are in
 *       flight: they are left out of the comparison (taken out of each side's sum, their own rows
 *       skipped) and stay pending, to be compared on their own later.
 * </ol>
 *
 * What is left agrees on both sides, or it does not and no change in flight explains it: the
 * sync lost a change, or something wrote the target outside it. (At the freeze nothing moves:
 * {@link FinalRecheck} compares without any of this.)
 *
 * <p>Uses four connections of its own: a snapshot and a control connection per side.
 */
final class Prover implements AutoCloseable {
  /** What a comparison found. */
  enum Verdict {
    /** Equal: the proof is recorded. */
    PROVEN,
    /** Nothing proven: a whole-table change (truncate) is in flight. */
    IN_FLIGHT,
    /** Nothing compared: the target did not catch up with the source snapshot in time. */
    LAGGING,
    /** Unequal, and no change in flight explains it. */
    DIFFERENT
  }

  /**
   * @param sourceRows rows compared on the source ({@code -1}: not compared)
   * @param differingKeys for a comparison of keys: those unequal with nothing in flight
   * @param inFlight keys left out because they changed after the source snapshot
   */
  record Result(Verdict verdict, long sourceRows, long targetRows, List<List<String>> differingKeys, int inFlight) {}

  /** A table and its primary key (empty: no key, compared whole). */
  record KeyedTable(Catalog.Table table, List<Catalog.KeyColumn> key) {}

  private static final int FOLD_BATCH = 10_000;

  private final Databases databases;
  private final Endpoint sourceEndpoint;
  private final Endpoint targetEndpoint;
  private final VerifyLedger ledger;
  private final ChangeFeed feed;
  private final Pause pause;
  private final Duration waitLimit;
  private final Runnable tick;
  private final List<Connection> open = new ArrayList<>();
  private final Connection sourceSnap;
  private final Connection targetSnap;
  final Connection sourceControl;
  final Connection targetControl;
  /** Time spent asleep waiting for the target, which the throttle counts as rest. */
  private long sleptNanos;

  Prover(
      Databases databases, Endpoint source, Endpoint target, String applicationName, VerifyLedger ledger, ChangeFeed feed,
      Pause pause, Duration waitLimit, Runnable tick) {
    this.databases = databases;
    this.sourceEndpoint = source;
    this.targetEndpoint = target;
    this.ledger = ledger;
    this.feed = feed;
    this.pause = pause;
    this.waitLimit = waitLimit;
    this.tick = tick;
    try {
      sourceSnap = snapshotConnection(source, applicationName);
      targetSnap = snapshotConnection(target, applicationName);
      sourceControl = connect(source, applicationName);
      targetControl = connect(target, applicationName);
      // The feed's log is consumed on the source (a read-only default must not stop that).
      execute(sourceControl, source, "SET default_transaction_read_only = off");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Time spent asleep (waiting for the target) since the last call. */
  long takeSlept() {
    long slept = sleptNanos;
    sleptNanos = 0;
    return slept;
  }

  // ---- comparisons ----------------------------------------------------------------------------

  /** Compares chunks of one table (in one pair of snapshots); records those proven. */
  List<Result> proveChunks(KeyedTable t, List<VerifyLedger.Chunk> chunks) {
    try {
      String[] s = beginSource();
      List<ChunkChecksum.Sum> sourceSums = new ArrayList<>();
      for (VerifyLedger.Chunk c : chunks) {
        sourceSums.add(timed(() -> ChunkChecksum.sum(sourceSnap, t.table(), t.key(), c.lower(), c.upper()), sourceEndpoint));
      }
      if (!awaitTarget(s[0], s[1])) {
        return chunks.stream().map(c -> new Result(Verdict.LAGGING, -1, -1, List.of(), 0)).toList();
      }
      String targetSnapshot = beginTarget();
      List<ChunkChecksum.Sum> targetSums = new ArrayList<>();
      for (VerifyLedger.Chunk c : chunks) {
        targetSums.add(timed(() -> ChunkChecksum.sum(targetSnap, t.table(), t.key(), c.lower(), c.upper()), targetEndpoint));
      }
      List<List<String>> inFlight = inFlight(t, s[0]);
      List<Result> results = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        VerifyLedger.Chunk c = chunks.get(i);
        if (inFlight.contains(List.of())) {
          results.add(new Result(Verdict.IN_FLIGHT, -1, -1, List.of(), 0));
          continue;
        }
        ChunkChecksum.Sum ss = sourceSums.get(i);
        ChunkChecksum.Sum ts = targetSums.get(i);
        int leftOut = 0;
        if (!inFlight.isEmpty() && !t.key().isEmpty()) {
          ChunkChecksum.Sum sx = timed(() -> ChunkChecksum.sumOf(sourceSnap, t.table(), t.key(), inFlight, c.lower(), c.upper()), sourceEndpoint);
          ChunkChecksum.Sum tx = timed(() -> ChunkChecksum.sumOf(targetSnap, t.table(), t.key(), inFlight, c.lower(), c.upper()), targetEndpoint);
          ss = minus(ss, sx);
          ts = minus(ts, tx);
          leftOut = inFlight.size();
        }
        boolean same = ss.rows() == ts.rows() && ss.hash().compareTo(ts.hash()) == 0;
        if (same) {
          ledger.proved(targetControl, c, s[0], targetSnapshot, ss.rows());
          results.add(new Result(Verdict.PROVEN, ss.rows(), ts.rows(), List.of(), leftOut));
        } else {
          results.add(new Result(Verdict.DIFFERENT, ss.rows(), ts.rows(), List.of(), leftOut));
        }
      }
      return results;
    } catch (SQLException e) {
      throw Databases.failure(targetEndpoint, e);
    } finally {
      endSnapshots();
    }
  }

  /**
   * Compares changed keys of one table row by row; the changes of the keys found equal, as far
   * as the snapshots hold them, are covered and leave the ledger.
   */
  Result proveKeys(KeyedTable t, List<List<String>> keys) {
    try {
      String[] s = beginSource();
      Map<Integer, Long> sourceHashes = timed(() -> ChunkChecksum.hashesOf(sourceSnap, t.table(), t.key(), keys), sourceEndpoint);
      if (!awaitTarget(s[0], s[1])) {
        return new Result(Verdict.LAGGING, -1, -1, List.of(), 0);
      }
      String targetSnapshot = beginTarget();
      Map<Integer, Long> targetHashes = timed(() -> ChunkChecksum.hashesOf(targetSnap, t.table(), t.key(), keys), targetEndpoint);
      List<List<String>> inFlight = inFlight(t, s[0]);
      if (inFlight.contains(List.of())) {
        return new Result(Verdict.IN_FLIGHT, -1, -1, List.of(), inFlight.size());
      }
      // Compared by value, not by text: two captures may spell one key differently.
      Set<List<String>> flying = new HashSet<>(canonical(t, inFlight));
      List<List<String>> spelled = flying.isEmpty() ? keys : canonical(t, keys);
      List<List<String>> equal = new ArrayList<>();
      List<List<String>> differing = new ArrayList<>();
      int skipped = 0;
      for (int i = 0; i < keys.size(); i++) {
        if (flying.contains(spelled.get(i))) {
          skipped++;
        } else if (Objects.equals(sourceHashes.get(i), targetHashes.get(i))) {
          equal.add(keys.get(i));
        } else {
          differing.add(keys.get(i));
        }
      }
      ledger.covered(targetControl, t.table(), equal, s[0], targetSnapshot);
      return new Result(
          differing.isEmpty() ? Verdict.PROVEN : Verdict.DIFFERENT, sourceHashes.size(), targetHashes.size(), differing, skipped);
    } catch (SQLException e) {
      throw Databases.failure(targetEndpoint, e);
    } finally {
      endSnapshots();
    }
  }

  /**
   * Takes the feed's captured changes into the ledger, and the changes not yet handed over that
   * {@code sourceSnapshot} does not hold ({@code null}: all of them). A consumed batch is deleted
   * on the source only after the target committed it: a crash in between takes it twice.
   */
  void fold(String sourceSnapshot) {
    try {
      while (true) {
        sourceControl.setAutoCommit(false);
        targetControl.setAutoCommit(false);
        ChangeFeed.Batch batch;
        try {
          batch = feed.take(sourceControl, targetControl, true, FOLD_BATCH);
          ledger.addPending(targetControl, batch.keys());
          // The ledger's copy first: a crash between the two takes the batch twice, never not at all.
          targetControl.commit();
          sourceControl.commit();
        } catch (SQLException | RuntimeException e) {
          targetControl.rollback();
          sourceControl.rollback();
          throw e;
        } finally {
          targetControl.setAutoCommit(true);
          sourceControl.setAutoCommit(true);
        }
        if (!batch.more()) {
          break;
        }
        tick.run();
      }
      ledger.addPending(targetControl, feed.unappliedAfter(sourceControl, sourceSnapshot));
    } catch (SQLException e) {
      throw Databases.failure(sourceEndpoint, e);
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** Keys of the table changed on the source after S, once the changes up to now are in the ledger. */
  private List<List<String>> inFlight(KeyedTable t, String sourceSnapshot) throws SQLException {
    fold(sourceSnapshot);
    List<List<String>> keys = ledger.changedAfter(targetControl, t.table(), sourceSnapshot);
    return t.key().isEmpty() && !keys.isEmpty() ? List.of(List.of()) : keys;
  }

  /** The keys as the key's own types print them in this session: one spelling per value. */
  private List<List<String>> canonical(KeyedTable t, List<List<String>> keys) throws SQLException {
    if (keys.isEmpty()) {
      return List.of();
    }
    List<String> casts = new ArrayList<>();
    for (int i = 0; i < t.key().size(); i++) {
      casts.add("(e.v->>" + i + ")::" + t.key().get(i).type() + "::text");
    }
    List<List<String>> spelled = new ArrayList<>();
    try (var ps =
        targetControl.prepareStatement(
            "SELECT ARRAY[" + String.join(", ", casts) + "] FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(v, n) ORDER BY e.n")) {
      ps.setString(1, ChunkChecksum.json(keys));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          spelled.add(List.of((String[]) rs.getArray(1).getArray()));
        }
      }
    }
    return spelled;
  }

  /** Begins the source's snapshot: S and the feed's marker. */
  private String[] beginSource() throws SQLException {
    try (Statement st = sourceSnap.createStatement();
        ResultSet rs = st.executeQuery("SELECT pg_current_snapshot()::text, " + feed.markerSql())) {
      rs.next();
      return new String[] {rs.getString(1), rs.getString(2)};
    }
  }

  private String beginTarget() throws SQLException {
    try (Statement st = targetSnap.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_snapshot()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Waits (with the source snapshot held) until the target has applied every change S holds. */
  private boolean awaitTarget(String sourceSnapshot, String marker) throws SQLException {
    long deadline = System.nanoTime() + waitLimit.toNanos();
    while (!feed.targetIncludes(sourceControl, sourceSnapshot, marker)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      tick.run();
      long t0 = System.nanoTime();
      pause.pause(Duration.ofMillis(50));
      sleptNanos += System.nanoTime() - t0;
    }
    return true;
  }

  /**
   * Ends both read-only snapshots. Committed, not rolled back: alike for what they read, but only
   * a commit has the WAL its reads wrote (pages pruned) flushed soon, and until it is, a logical
   * subscription is not sent what lies past it (see the feed's markers).
   */
  private void endSnapshots() {
    for (Connection c : List.of(sourceSnap, targetSnap)) {
      try {
        c.commit();
      } catch (SQLException failed) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // A broken connection ends its transaction with it; the next query says so.
        }
      }
    }
  }

  private interface Query<T> {
    T run() throws SQLException;
  }

  private <T> T timed(Query<T> query, Endpoint side) {
    try {
      return query.run();
    } catch (SQLException e) {
      throw Databases.failure(side, e);
    }
  }

  private static ChunkChecksum.Sum minus(ChunkChecksum.Sum a, ChunkChecksum.Sum b) {
    return new ChunkChecksum.Sum(a.rows() - b.rows(), a.hash().subtract(b.hash() == null ? BigDecimal.ZERO : b.hash()));
  }

  private Connection snapshotConnection(Endpoint endpoint, String applicationName) {
    Connection c = connect(endpoint, applicationName);
    try {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setReadOnly(true);
      return c;
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }

  private Connection connect(Endpoint endpoint, String applicationName) {
    Connection c = databases.connect(endpoint, applicationName);
    open.add(c);
    try {
      ChunkChecksum.prepareSession(c);
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
    return c;
  }

  private static void execute(Connection c, Endpoint endpoint, String sql) {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }

  /** Cancels whatever runs on the four connections (a cancelled activity must stop loading production). */
  void cancel() {
    for (Connection c : open) {
      try {
        c.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException ignored) {
        // Nothing running, or the connection is gone.
      }
    }
  }

  @Override
  public void close() {
    for (Connection c : open) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // The server ends the session when the socket goes.
      }
    }
  }

  static String describeKey(List<Catalog.KeyColumn> key, List<String> values) {
    if (key.isEmpty() || values.isEmpty()) {
      return "whole table";
    }
    String columns =
        key.size() == 1 ? key.get(0).name() : key.stream().map(Catalog.KeyColumn::name).collect(Collectors.joining(", ", "(", ")"));
    return columns + " = " + (values.size() == 1 ? values.get(0) : "(" + String.join(", ", values) + ")");
  }
}

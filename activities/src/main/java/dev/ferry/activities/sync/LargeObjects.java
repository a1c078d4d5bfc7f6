package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import io.temporal.activity.Activity;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Large objects, which neither sync method carries (logical replication does not decode them,
 * and no trigger can be put on {@code pg_largeobject}): made equal on the target at the drain,
 * with the source frozen, and for the logical method at setup too (its initial copy is
 * schema-only and the subscription copies tables, so without this every one of them would wait
 * for the downtime).
 *
 * <p>Exact: both sides are listed with an MD5 of every object's content (the final verify's own
 * measure), the source's listing and every read of its content in one repeatable-read snapshot;
 * objects missing on the target or different are written there with the same oid, objects the
 * source no longer has are removed. So the target holds exactly the source's objects as of that
 * snapshot, and running it again (a drain retried after a crash) finds nothing to do or finishes
 * what was left. Efficient when most are unchanged: only the checksums cross the network (both
 * sides list at once), and only what differs is copied. Owner and privileges are the target
 * credential's, as after the initial copy's restore ({@code --no-owner --no-privileges}).
 *
 * <p>Limits: an object of 1 GB or more cannot be checksummed by {@code lo_get} (the final verify
 * has the same limit); every object's content is read on both sides at each pass, which at the
 * drain counts as write downtime.
 */
final class LargeObjects {
  private static final Logger log = LoggerFactory.getLogger(LargeObjects.class);
  /** Objects at most this big are read and written whole, many per statement; bigger ones in pieces of this size. */
  static final int PIECE = 1 << 20;
  /** About this many bytes per batch of small objects. */
  private static final long BATCH_BYTES = 8L << 20;
  private static final int BATCH_OBJECTS = 1000;
  private static final String LIST =
      "SELECT m.oid::bigint, md5(x.content), length(x.content) FROM pg_largeobject_metadata m"
          // OFFSET 0: one lo_get per object, not one per use of its result.
          + " CROSS JOIN LATERAL (SELECT lo_get(m.oid) AS content OFFSET 0) x ORDER BY m.oid";

  private LargeObjects() {}

  /** What a pass did: objects compared, written (new or changed), removed, and bytes written. */
  record Carried(long compared, long written, long removed, long bytes) {
    @Override
    public String toString() {
      return compared + " large object(s) compared, " + written + " written, " + removed + " removed (" + bytes + " bytes)";
    }
  }

  /**
   * Makes the target's large objects those of the source. Heartbeats (with no details) while it
   * lists and after each batch it writes.
   */
  static Carried carry(Databases databases, SyncSession session, Runnable heartbeat) {
    String app = session.applicationName("ferry-sync-large-objects");
    ExecutorService listing = Executors.newFixedThreadPool(2);
    try (Connection source = databases.connect(session.source(), app);
        Connection target = databases.connect(session.target(), app)) {
      source.setAutoCommit(false);
      source.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      source.setReadOnly(true);
      target.setAutoCommit(false);
      // Both listed at once: each side reads all its objects' content to checksum it.
      CompletableFuture<Listing> onSource = CompletableFuture.supplyAsync(() -> list(session.source(), source), listing);
      CompletableFuture<Listing> onTarget = CompletableFuture.supplyAsync(() -> list(session.target(), target), listing);
      Listing s = await(onSource, heartbeat);
      Listing t = await(onTarget, heartbeat);
      target.commit();

      Diff diff = Diff.of(s, t);
      heartbeat.run();
      long bytes = 0;
      if (!diff.remove.isEmpty()) {
        unlink(target, diff.remove.toArray());
        target.commit();
        heartbeat.run();
      }
      List<Long> batch = new ArrayList<>();
      long batchBytes = 0;
      for (int i = 0; i < diff.write.size(); i++) {
        long oid = diff.write.get(i);
        long size = diff.sizes.get(i);
        if (size > PIECE) {
          copyInPieces(source, target, oid);
          target.commit();
          bytes += size;
          heartbeat.run();
          continue;
        }
        batch.add(oid);
        batchBytes += size;
        if (batchBytes >= BATCH_BYTES || batch.size() >= BATCH_OBJECTS) {
          copyWhole(source, target, batch);
          target.commit();
          bytes += batchBytes;
          batch.clear();
          batchBytes = 0;
          heartbeat.run();
        }
      }
      if (!batch.isEmpty()) {
        copyWhole(source, target, batch);
        target.commit();
        bytes += batchBytes;
      }
      try {
        source.commit();
      } catch (SQLException e) {
        throw new SourceFailure(e);
      }
      Carried carried = new Carried(s.size(), diff.write.size(), diff.remove.size() - diff.replaced, bytes);
      log.info("large objects of {}: {}", session.workflowId(), carried);
      return carried;
    } catch (SourceFailure e) {
      throw Databases.failure(session.source(), e.cause);
    } catch (SQLException e) {
      // Reads of the source say so (SourceFailure): the rest is the target.
      throw Databases.failure(session.target(), e);
    } finally {
      listing.shutdownNow();
    }
  }

  /** A source read failed, inside code that otherwise talks to the target. */
  private static final class SourceFailure extends RuntimeException {
    final SQLException cause;

    SourceFailure(SQLException cause) {
      super(null, null, false, false);
      this.cause = cause;
    }
  }

  /**
   * Why the source credential cannot read every large object (pg_dump and this class both read
   * them all), or empty: objects it neither owns nor has SELECT on, unless it is a superuser or
   * {@code lo_compat_privileges} is on.
   */
  static List<String> unreadable(Connection source) throws SQLException {
    List<Long> oids = new ArrayList<>();
    long total;
    try (var st = source.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT m.oid::bigint, count(*) OVER () FROM pg_largeobject_metadata m"
                    + " WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
                    + " AND current_setting('lo_compat_privileges') <> 'on'"
                    + " AND NOT pg_has_role(current_user, m.lomowner, 'USAGE')"
                    + " AND NOT EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a WHERE a.privilege_type = 'SELECT'"
                    + "   AND (a.grantee = 0 OR pg_has_role(current_user, a.grantee, 'USAGE')))"
                    + " ORDER BY 1 LIMIT 10")) {
      total = 0;
      while (rs.next()) {
        oids.add(rs.getLong(1));
        total = rs.getLong(2);
      }
    }
    if (oids.isEmpty()) {
      return List.of();
    }
    return List.of(
        total + " large object(s) the source's role may not read, which the copy must read: oid "
            + oids.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("")
            + (total > oids.size() ? " and " + (total - oids.size()) + " more" : "")
            + " (GRANT SELECT ON LARGE OBJECT … to it, or use the owner's credential)");
  }

  /** Oids in ascending order, each with its content's MD5 (16 bytes) and length. */
  private record Listing(long[] oids, byte[][] md5s, long[] sizes) {
    int size() {
      return oids.length;
    }
  }

  private static Listing list(Endpoint endpoint, Connection c) {
    LongList oids = new LongList();
    LongList sizes = new LongList();
    List<byte[]> md5s = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(LIST)) {
      ps.setFetchSize(1000);
      try (ResultSet rs = ps.executeQuery()) {
        HexFormat hex = HexFormat.of();
        while (rs.next()) {
          oids.add(rs.getLong(1));
          md5s.add(hex.parseHex(rs.getString(2)));
          sizes.add(rs.getLong(3));
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
    return new Listing(oids.toArray(), md5s.toArray(byte[][]::new), sizes.toArray());
  }

  /** Waits for a listing, heartbeating: a listing of many big objects can take longer than a heartbeat timeout. */
  private static Listing await(CompletableFuture<Listing> listing, Runnable heartbeat) {
    while (true) {
      try {
        return listing.get(1, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        heartbeat.run();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }

  /**
   * What to do to the target: {@code write} (with each one's size) what it lacks or holds
   * differently; {@code remove} what it should not hold, and what it holds differently (written
   * again afterwards: {@code replaced} of them).
   */
  private record Diff(List<Long> write, List<Long> sizes, LongList remove, long replaced) {
    static Diff of(Listing s, Listing t) {
      List<Long> write = new ArrayList<>();
      List<Long> sizes = new ArrayList<>();
      LongList remove = new LongList();
      long replaced = 0;
      int i = 0;
      int j = 0;
      while (i < s.size() || j < t.size()) {
        if (j >= t.size() || (i < s.size() && s.oids[i] < t.oids[j])) {
          write.add(s.oids[i]);
          sizes.add(s.sizes[i]);
          i++;
        } else if (i >= s.size() || t.oids[j] < s.oids[i]) {
          remove.add(t.oids[j]);
          j++;
        } else {
          if (!Arrays.equals(s.md5s[i], t.md5s[j]) || s.sizes[i] != t.sizes[j]) {
            remove.add(t.oids[j]);
            write.add(s.oids[i]);
            sizes.add(s.sizes[i]);
            replaced++;
          }
          i++;
          j++;
        }
      }
      return new Diff(write, sizes, remove, replaced);
    }
  }

  private static void unlink(Connection target, long[] oids) throws SQLException {
    try (PreparedStatement ps =
        target.prepareStatement(
            "SELECT count(lo_unlink(m.oid)) FROM pg_largeobject_metadata m WHERE m.oid = ANY (?::bigint[]::oid[])")) {
      ps.setArray(1, target.createArrayOf("bigint", Arrays.stream(oids).boxed().toArray()));
      ps.executeQuery().close();
    }
  }

  /** Small objects: read whole, many in one statement, and created whole on the target. */
  private static void copyWhole(Connection source, Connection target, List<Long> oids) throws SQLException {
    List<Long> read = new ArrayList<>();
    List<byte[]> contents = new ArrayList<>();
    try (PreparedStatement ps = source.prepareStatement("SELECT x::bigint, lo_get(x) FROM unnest(?::bigint[]::oid[]) x")) {
      ps.setArray(1, source.createArrayOf("bigint", oids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          read.add(rs.getLong(1));
          contents.add(rs.getBytes(2));
        }
      }
    } catch (SQLException e) {
      throw new SourceFailure(e);
    }
    try (PreparedStatement ps =
        target.prepareStatement("SELECT count(lo_from_bytea(o::oid, c)) FROM unnest(?::bigint[], ?::bytea[]) AS t(o, c)")) {
      ps.setArray(1, target.createArrayOf("bigint", read.toArray()));
      ps.setArray(2, target.createArrayOf("bytea", contents.toArray(byte[][]::new)));
      ps.executeQuery().close();
    }
  }

  /** A big object: created empty, then written a piece at a time. */
  private static void copyInPieces(Connection source, Connection target, long oid) throws SQLException {
    try (PreparedStatement create = target.prepareStatement("SELECT lo_create(?::bigint::oid)")) {
      create.setLong(1, oid);
      create.executeQuery().close();
    }
    try (PreparedStatement get = source.prepareStatement("SELECT lo_get(?::bigint::oid, ?, ?)");
        PreparedStatement put = target.prepareStatement("SELECT lo_put(?::bigint::oid, ?, ?)")) {
      for (long offset = 0; ; offset += PIECE) {
        get.setLong(1, oid);
        get.setLong(2, offset);
        get.setInt(3, PIECE);
        byte[] piece;
        try (ResultSet rs = get.executeQuery()) {
          rs.next();
          piece = rs.getBytes(1);
        } catch (SQLException e) {
          throw new SourceFailure(e);
        }
        if (piece.length > 0) {
          put.setLong(1, oid);
          put.setLong(2, offset);
          put.setBytes(3, piece);
          put.executeQuery().close();
        }
        if (piece.length < PIECE) {
          return;
        }
      }
    }
  }

  /** A growable array of longs: a million objects are 8 MB, not a million boxed Longs. */
  private static final class LongList {
    private long[] values = new long[64];
    private int size;

    void add(long value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    boolean isEmpty() {
      return size == 0;
    }

    int size() {
      return size;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}

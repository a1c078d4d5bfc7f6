package dev.ferry.activities.postgres;

import dev.ferry.model.sync.SyncRequest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Where a pre-verification learns which source rows changed, and how it knows the target has
 * caught up with a source snapshot. The sync method provides it (the trigger method's own change
 * capture; for the logical method the keys read from the source's WAL beside the subscription);
 * a source nothing writes to has {@link #FROZEN}.
 *
 * <p>Every change is reported with the id of the transaction that wrote it ({@code xid8}), so a
 * proof taken in a source snapshot can tell the changes it saw from those it did not.
 */
public interface ChangeFeed {
  /** A changed key: schema and table, the key's values as text ({@code []}: every row, a truncate), its transaction. */
  record ChangedKey(String schema, String table, List<String> key, String xid) {}

  /** What one {@link #take} handed over; {@code more}: there may be more to take now. */
  record Batch(List<ChangedKey> keys, boolean more) {}

  /** Makes a feed for a run's sync, its bookkeeping in the pre-verification's schema on the source. */
  @FunctionalInterface
  interface Factory {
    ChangeFeed of(SyncRequest sync, String verifySchema);
  }

  /**
   * Installs what the feed needs before the first proof (the logical method's replication slot and
   * publication on the source), or checks it is there. Idempotent.
   */
  void install(Connection source, Connection target) throws SQLException;

  /** Forgets the changes captured so far: before the first proof they concern no proof. */
  void forgetEarlier(Connection source, Connection target) throws SQLException;

  /**
   * A column to read in the proof's source snapshot, after the snapshot was taken ({@code
   * pg_current_wal_insert_lsn()::text}), that {@link #targetIncludes} compares; {@code NULL} when
   * the feed needs none.
   */
  String markerSql();

  /** Whether the target has applied every change the source snapshot holds. */
  boolean targetIncludes(Connection source, String snapshot, String marker) throws SQLException;

  /**
   * About {@code limit} changed keys captured so far (whole transactions may make it more), from
   * wherever the method keeps them; with {@code consume}, given up in the connections'
   * transactions (the caller commits the target's, where it records them, first). Without, every
   * one, read only (a frozen source).
   */
  Batch take(Connection source, Connection target, boolean consume, int limit) throws SQLException;

  /**
   * Changes captured but not yet handed over by {@link #take} that the snapshot does not hold
   * (the trigger method's pending changes, which its applier may already have written to the
   * target).
   */
  List<ChangedKey> unappliedAfter(Connection source, String snapshot) throws SQLException;

  /** Removes what {@link #install} installed. Idempotent. */
  void remove(Connection source) throws SQLException;

  /** No sync: the source is frozen, nothing changes, the target holds what it will hold. */
  ChangeFeed FROZEN =
      new ChangeFeed() {
        @Override
        public void install(Connection source, Connection target) {}

        @Override
        public void forgetEarlier(Connection source, Connection target) {}

        @Override
        public String markerSql() {
          return "NULL";
        }

        @Override
        public boolean targetIncludes(Connection source, String snapshot, String marker) {
          return true;
        }

        @Override
        public Batch take(Connection source, Connection target, boolean consume, int limit) {
          return new Batch(List.of(), false);
        }

        @Override
        public List<ChangedKey> unappliedAfter(Connection source, String snapshot) {
          return List.of();
        }

        @Override
        public void remove(Connection source) {}
      };
}

package dev.ferry.activities.sync;

import java.nio.file.Path;

/**
 * The schema copy a logical sync needs, in two halves around the subscription's data copy:
 * the tables before it, indexes and constraints after it. {@link InitialCopy} does it with
 * pg_dump and pg_restore; the interface lets tests stand in for it.
 */
interface LogicalSchemaCopy {
  /** Dumps the source's schema (no data) into a scratch directory. */
  Path dump(SyncSession session);

  /** Restores one section ({@link InitialCopy#PRE_DATA} or {@link InitialCopy#POST_DATA}). */
  void restore(SyncSession session, Path dump, String section);

  /** Deletes the dump; best effort. */
  void discard(Path dump);

  static LogicalSchemaCopy of(InitialCopy copy) {
    return new LogicalSchemaCopy() {
      @Override
      public Path dump(SyncSession session) {
        return copy.dump(session, true, null);
      }

      @Override
      public void restore(SyncSession session, Path dump, String section) {
        copy.restore(session, dump, section);
      }

      @Override
      public void discard(Path dump) {
        copy.discard(dump);
      }
    };
  }
}

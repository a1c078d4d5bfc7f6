package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a table's chunks end, decided once and recorded ({@link VerifyLedger}), the same ranges
 * {@link VerifyActivitiesImpl} walks: integer keys in ranges of equal width, other keys every
 * {@link ChunkChecksum#CHUNK_ROWS} rows in key order, a keyless table whole. The first and last
 * chunks are open-ended, so every key there will ever be falls in exactly one chunk.
 *
 * @param method how the table was split, for people
 * @param uppers each chunk's upper key but the last's (n uppers: n + 1 chunks)
 */
record ChunkPlan(String method, List<List<String>> uppers) {
  /** Chunks of an integer key at most, however sparse the key. */
  private static final long MAX_INTEGER_CHUNKS = 10_000;

  static ChunkPlan of(Connection source, Connection target, Catalog.Table table, List<Catalog.KeyColumn> key, long estimate)
      throws SQLException {
    if (key.isEmpty()) {
      return new ChunkPlan("whole table", List.of());
    }
    List<List<String>> uppers = new ArrayList<>();
    if (key.size() == 1 && key.get(0).isInteger()) {
      long[] sb = ChunkChecksum.integerBounds(source, table, key.get(0));
      long[] tb = ChunkChecksum.integerBounds(target, table, key.get(0));
      long min = Math.min(sb == null ? Long.MAX_VALUE : sb[0], tb == null ? Long.MAX_VALUE : tb[0]);
      long max = Math.max(sb == null ? Long.MIN_VALUE : sb[1], tb == null ? Long.MIN_VALUE : tb[1]);
      if (min <= max) {
        double span = (double) max - (double) min + 1;
        long chunks = Math.max(1, estimate / ChunkChecksum.CHUNK_ROWS);
        long width =
            (long) Math.max(ChunkChecksum.CHUNK_ROWS, Math.ceil(Math.max(span / chunks, span / MAX_INTEGER_CHUNKS)));
        for (long upper = min - 1 + width; upper > min - 1 && upper < max; upper += width) {
          uppers.add(List.of(Long.toString(upper)));
        }
      }
      return new ChunkPlan("primary key range", uppers);
    }
    List<String> lower = null;
    while (true) {
      List<String> upper = ChunkChecksum.nextUpper(source, table, key, lower);
      if (upper == null) {
        return new ChunkPlan("primary key order", uppers);
      }
      uppers.add(upper);
      lower = upper;
    }
  }
}

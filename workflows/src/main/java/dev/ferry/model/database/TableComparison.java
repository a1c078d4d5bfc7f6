package dev.ferry.model.database;

import java.util.List;

/**
 * One table compared on both sides: rows counted and checksummed, chunk by chunk.
 *
 * @param table schema-qualified, quoted where PostgreSQL needs quotes
 * @param sourceRows rows on the source, or -1 when the table is missing there
 * @param targetRows rows on the target, or -1 when the table is missing there
 * @param method how the table was split: {@code primary key range} (integer key ranges), {@code
 *     primary key order} (key ranges the source's key order sets), or {@code whole table} (no
 *     primary key: one order-independent checksum)
 * @param chunks chunks compared
 * @param mismatchedChunks the chunks whose row count or checksum differ, at most {@link
 *     #MAX_CHUNKS_NAMED}; {@code differingChunks} says how many in all
 * @param matches both sides exist and every chunk agrees
 */
public record TableComparison(
    String table,
    long sourceRows,
    long targetRows,
    String method,
    int chunks,
    int differingChunks,
    List<ChunkMismatch> mismatchedChunks,
    boolean matches) {
  public static final int MAX_CHUNKS_NAMED = 20;

  /** A table that exists on one side only. */
  public static TableComparison oneSided(String table, long sourceRows, long targetRows) {
    return new TableComparison(table, sourceRows, targetRows, "missing", 0, 0, List.of(), false);
  }
}

package dev.ferry.model.database;

import java.util.List;

/**
 * Where a verification stands, heartbeated after every chunk so a retry resumes there.
 *
 * @param done tables compared to the end
 * @param underway tables compared part of the way
 */
public record VerifyCheckpoint(List<TableComparison> done, List<TableCursor> underway) {

  /**
   * A table compared up to a primary key.
   *
   * @param lastKey the key the last compared chunk ended at, one text value per key column
   * @param chunks chunks compared so far, {@code sourceRows}/{@code targetRows} their rows
   */
  public record TableCursor(
      String table,
      List<String> lastKey,
      int chunks,
      long sourceRows,
      long targetRows,
      int differingChunks,
      List<ChunkMismatch> mismatchedChunks) {}
}

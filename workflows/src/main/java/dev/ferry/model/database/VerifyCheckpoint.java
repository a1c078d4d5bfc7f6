package dev.ferry.model.database;

import java.util.List;

/**
 * Where a verification stands, heartbeated after every chunk so a retry resumes there. Bounded
 * whatever the number of tables: which tables are done is a bitmap, what they found is counted,
 * and only the tables the report will name are kept whole.
 *
 * @param done tables compared to the end that the report names ({@link
 *     VerificationReport#MAX_LISTED} at most); in checkpoints made before the bitmap ({@code
 *     compared} null), every table compared to the end
 * @param underway tables compared part of the way (at most one per job)
 * @param tableList identifies the list of tables {@code compared} is a bitmap over (their count
 *     and a digest of their names in order); a retry that finds another list starts over
 * @param compared base64 of a bitmap over that list: bit {@code i} set when table {@code i} was
 *     compared to the end; {@code null} in checkpoints made before it
 * @param totals what the tables compared to the end found, counted (tables, rows, chunks;
 *     sequences and schema are compared again on a retry)
 */
public record VerifyCheckpoint(
    List<TableComparison> done,
    List<TableCursor> underway,
    String tableList,
    String compared,
    VerificationReport.Totals totals) {

  /** A checkpoint as made before the bitmap: every finished table listed. */
  public VerifyCheckpoint(List<TableComparison> done, List<TableCursor> underway) {
    this(done, underway, null, null, null);
  }

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

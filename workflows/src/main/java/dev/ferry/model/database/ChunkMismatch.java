package dev.ferry.model.database;

/**
 * A chunk of a table whose two sides differ.
 *
 * @param range the primary-key range, such as {@code id > 1000 and id <= 2000}, or {@code whole
 *     table}
 * @param sourceRows rows of the chunk on the source
 * @param targetRows rows of the chunk on the target (equal counts mean a row's content differs)
 */
public record ChunkMismatch(String range, long sourceRows, long targetRows) {}

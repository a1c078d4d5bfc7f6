package dev.ferry.model.database;

/**
 * One table compared on both sides.
 *
 * @param table schema-qualified, quoted where PostgreSQL needs quotes
 * @param sourceRows rows on the source, or -1 when the table is missing there
 * @param targetRows rows on the target, or -1 when the table is missing there
 * @param matches both sides exist and agree
 */
public record TableComparison(String table, long sourceRows, long targetRows, boolean matches) {}

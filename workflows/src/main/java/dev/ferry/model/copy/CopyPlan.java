package dev.ferry.model.copy;

/**
 * What the copy has to do at one snapshot (counts only: the list is in the bookkeeping schema).
 *
 * @param tables tables with data to copy
 * @param chunks chunks to copy (a table split by key ranges counts one per range)
 * @param bytes the source's size of those tables
 * @param indexes indexes built table by table as soon as a table's data is in
 * @param kept tables a lost snapshot's copy had finished and this snapshot keeps
 * @param restarted tables whose earlier copy this snapshot threw away and starts again
 */
public record CopyPlan(int tables, int chunks, long bytes, int indexes, int kept, int restarted) {}

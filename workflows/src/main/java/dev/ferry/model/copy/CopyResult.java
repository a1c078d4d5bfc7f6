package dev.ferry.model.copy;

/**
 * What the streaming copy did, in counts (never per table: a run may copy 10,000 of them).
 *
 * @param tables tables copied and checked
 * @param rows rows copied
 * @param bytes bytes streamed (the rows' text)
 * @param chunks chunks copied (tables split by key ranges count one per range)
 * @param recopied chunks copied again because the check found them different
 * @param indexes indexes built table by table while other tables copied
 * @param snapshots snapshots the copy used: more than one when a snapshot's holder was lost
 * @param detail for people: what was kept or started again when a snapshot was lost
 */
public record CopyResult(
    int tables, long rows, long bytes, int chunks, int recopied, int indexes, int snapshots, String detail) {}

package dev.ferry.model.sync;

/**
 * What setting up the sync did.
 *
 * @param tables tables copied and kept in sync
 * @param rows rows the initial copy wrote
 * @param detail what was installed, for people (triggers and change table, or publication and
 *     subscription)
 */
public record SyncSetup(int tables, long rows, String detail) {}

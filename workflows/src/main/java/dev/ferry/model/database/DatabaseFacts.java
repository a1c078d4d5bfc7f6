package dev.ferry.model.database;

/**
 * What preflight learnt about one database.
 *
 * @param endpoint {@code host:port/database} as user@ (no password), for the operator to check
 *     that the reference points where they think
 * @param serverVersionNum as in {@code server_version_num}, e.g. 150020
 * @param sizeBytes {@code pg_database_size}
 * @param tables ordinary and partitioned tables outside the system schemas
 */
public record DatabaseFacts(
    String endpoint,
    String serverVersion,
    int serverVersionNum,
    long sizeBytes,
    int tables,
    int sequences) {}

package dev.ferry.model.database;

/**
 * What preflight learnt about one database.
 *
 * @param endpoint {@code host:port/database} as user@ (no password), for the operator to check
 *     that the reference points where they think
 * @param serverVersionNum as in {@code server_version_num}, e.g. 150020
 * @param sizeBytes {@code pg_database_size}
 * @param tables ordinary and partitioned tables outside the system schemas
 * @param readOnly new sessions start read-only ({@code default_transaction_read_only} is on)
 * @param freeConnections connection slots left for ordinary roles ({@code max_connections} minus
 *     the reserved ones minus those in use)
 */
public record DatabaseFacts(
    String endpoint,
    String serverVersion,
    int serverVersionNum,
    long sizeBytes,
    int tables,
    int sequences,
    boolean readOnly,
    int freeConnections) {}

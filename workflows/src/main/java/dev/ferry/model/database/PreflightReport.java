package dev.ferry.model.database;

import java.util.List;

/**
 * The preflight audit of a migration.
 *
 * @param dumpToolVersion the worker's {@code pg_dump --version}, which must not be older than
 *     the source server
 * @param audit the traps found in the source's schema
 * @param warnings what the operator should know before approving, though it does not stop the run
 */
public record PreflightReport(
    DatabaseFacts source,
    DatabaseFacts target,
    String dumpToolVersion,
    SourceAudit audit,
    List<String> warnings) {}

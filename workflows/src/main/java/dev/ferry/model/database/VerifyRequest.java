package dev.ferry.model.database;

/**
 * @param databases the two sides
 * @param jobs tables compared at once (each with one connection per side), or {@code null} for
 *     as many as the worker has cores
 */
public record VerifyRequest(DatabasePair databases, Integer jobs) {}

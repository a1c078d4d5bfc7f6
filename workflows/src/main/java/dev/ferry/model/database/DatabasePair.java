package dev.ferry.model.database;

/** The two databases of a migration, as secret references (resolved only inside activities). */
public record DatabasePair(String sourceUrlRef, String targetUrlRef) {}

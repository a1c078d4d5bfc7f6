package dev.ferry.model.runbook;

/**
 * Where the app lives today.
 *
 * @param herokuApp the Heroku app name, when Ferry should drive Heroku too (optional)
 * @param databaseUrl a reference to the database URL, such as {@code env:HEROKU_DATABASE_URL}
 */
public record SourceSpec(String herokuApp, String databaseUrl) {}

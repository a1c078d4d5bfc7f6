package dev.ferry.activities.postgres;

/**
 * One side of a migration, resolved: which side, the reference the runbook gave and the URL it
 * resolved to. Errors describe it as {@code source (env:HEROKU_DATABASE_URL → u@host:5432/db)},
 * so the operator sees both what they wrote and where it pointed, but never the password.
 */
public record Endpoint(String side, String reference, PgUrl url) {
  public String describe() {
    return side + " (" + reference + " → " + url + ")";
  }
}

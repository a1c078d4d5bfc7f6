package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.PgUrl;
import java.util.Map;

/**
 * The connection string the target's subscription uses to reach the source. It holds a password
 * (the run's replication role's, or the source credential's), so it exists only in two places:
 * inside the {@code CREATE SUBSCRIPTION} or {@code ALTER SUBSCRIPTION … CONNECTION} statement
 * sent to the target (which keeps it in {@code pg_subscription}, readable by superusers only)
 * and in this object, whose {@link #toString()} leaves it out. {@link #mask} scrubs it from any
 * text that could reach a log, an exception or a heartbeat.
 */
final class LogicalConnInfo {
  private static final String MASK = "********";
  /** libpq's keywords for what {@link PgUrl#libpqEnvironment} names by variable. */
  private static final Map<String, String> KEYWORDS =
      Map.of(
          "PGHOST", "host",
          "PGPORT", "port",
          "PGDATABASE", "dbname",
          "PGUSER", "user",
          "PGPASSWORD", "password",
          "PGSSLMODE", "sslmode",
          "PGCONNECT_TIMEOUT", "connect_timeout");

  private final String conninfo;
  private final String password;

  private LogicalConnInfo(String conninfo, String password) {
    this.conninfo = conninfo;
    this.password = password;
  }

  /** Nothing to hide: for the side whose password never leaves JDBC. */
  static LogicalConnInfo none() {
    return new LogicalConnInfo("", null);
  }

  /** The source as the target must reach it (the same host, port and credentials Ferry uses). */
  static LogicalConnInfo of(PgUrl source) {
    Map<String, String> env = source.libpqEnvironment("ferry-subscription");
    return new LogicalConnInfo(conninfo(env), env.get("PGPASSWORD"));
  }

  /** The source as Ferry reaches it, logged in as {@code user} with {@code password} instead. */
  static LogicalConnInfo of(PgUrl source, String user, String password) {
    Map<String, String> env = new java.util.HashMap<>(source.libpqEnvironment("ferry-subscription"));
    env.put("PGUSER", user);
    env.put("PGPASSWORD", password);
    return new LogicalConnInfo(conninfo(env), password);
  }

  private static String conninfo(Map<String, String> env) {
    // PGAPPNAME is left out: the subscription names its walsender after itself.
    StringBuilder s = new StringBuilder();
    for (String variable : new String[] {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE", "PGCONNECT_TIMEOUT"}) {
      String value = env.get(variable);
      if (value != null) {
        s.append(s.length() == 0 ? "" : " ").append(KEYWORDS.get(variable)).append('=').append(quote(value));
      }
    }
    return s.toString();
  }

  /** As an SQL string literal, for {@code CONNECTION}; the session must have standard strings. */
  String sqlLiteral() {
    return "'" + conninfo.replace("'", "''") + "'";
  }

  /** {@code text} with the password replaced by asterisks. */
  String mask(String text) {
    if (text == null || password == null || password.isEmpty()) {
      return text;
    }
    // The password as libpq escapes it and as SQL doubles its quotes, then as it is.
    String escaped = password.replace("\\", "\\\\").replace("'", "\\'");
    return text.replace(escaped, MASK).replace(password.replace("'", "''"), MASK).replace(password, MASK);
  }

  @Override
  public String toString() {
    return mask(conninfo);
  }

  /** A libpq conninfo value: single-quoted, with backslash and quote escaped. */
  private static String quote(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}

package dev.ferry.activities.postgres;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A PostgreSQL URL as Heroku and RDS hand them out ({@code
 * postgres://user:password@host:5432/database?sslmode=require}), turned into what JDBC and the
 * libpq tools (pg_dump, pg_restore) need. The password goes to JDBC properties and to the
 * tools' environment, never to a command line, a log or a message: {@link #toString()} leaves
 * it out.
 */
public final class PgUrl {
  private static final int DEFAULT_PORT = 5432;

  private final String host;
  private final int port;
  private final String database;
  private final String user;
  private final String password;
  private final Map<String, String> parameters;

  private PgUrl(
      String host, int port, String database, String user, String password, Map<String, String> parameters) {
    this.host = host;
    this.port = port;
    this.database = database;
    this.user = user;
    this.password = password;
    this.parameters = Map.copyOf(parameters);
  }

  /**
   * Parses a {@code postgres://} or {@code postgresql://} URL.
   *
   * @throws IllegalArgumentException saying what is wrong, without the URL (it holds a password)
   */
  public static PgUrl parse(String url) {
    if (url == null) {
      throw new IllegalArgumentException("is empty");
    }
    String text = url.trim();
    if (!text.startsWith("postgres://") && !text.startsWith("postgresql://")) {
      throw new IllegalArgumentException(
          "is not a PostgreSQL URL (postgres://user:password@host:port/database)");
    }
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "is not a valid URL (special characters in the password must be percent-encoded)");
    }
    String host = uri.getHost();
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("names no host");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // an IPv6 literal; JDBC re-adds the brackets
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String database = decode(path.startsWith("/") ? path.substring(1) : path);
    if (database.isBlank()) {
      throw new IllegalArgumentException("names no database");
    }
    String user = null;
    String password = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("names no user");
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        parameters.put(
            decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
      }
    }
    return new PgUrl(host, uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), database, user, password, parameters);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String database() {
    return database;
  }

  public String user() {
    return user;
  }

  /** The same server and credentials, another database (for administration, such as listing). */
  public PgUrl withDatabase(String otherDatabase) {
    return new PgUrl(host, port, otherDatabase, user, password, parameters);
  }

  /** {@code jdbc:postgresql://host:port/database}; credentials go in {@link #jdbcProperties}. */
  public String jdbcUrl() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "jdbc:postgresql://" + h + ":" + port + "/" + java.net.URLEncoder.encode(database, StandardCharsets.UTF_8);
  }

  /**
   * @param applicationName shown in {@code pg_stat_activity}, so Ferry can find its own sessions
   */
  public Properties jdbcProperties(String applicationName) {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    String sslmode = parameters.get("sslmode");
    if (sslmode != null) {
      p.setProperty("sslmode", sslmode);
    }
    p.setProperty("ApplicationName", applicationName);
    p.setProperty("connectTimeout", "10");
    p.setProperty("loginTimeout", "15");
    // A dead server must not hang an activity forever; heartbeats catch a slow one.
    p.setProperty("tcpKeepAlive", "true");
    return p;
  }

  /**
   * The libpq environment for pg_dump and pg_restore: connection, credentials and
   * application name, so nothing secret appears in the process list.
   */
  public Map<String, String> libpqEnvironment(String applicationName) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PGHOST", host);
    env.put("PGPORT", Integer.toString(port));
    env.put("PGDATABASE", database);
    env.put("PGUSER", user);
    if (password != null) {
      env.put("PGPASSWORD", password);
    }
    env.put("PGSSLMODE", parameters.getOrDefault("sslmode", "prefer"));
    env.put("PGAPPNAME", applicationName);
    env.put("PGCONNECT_TIMEOUT", "10");
    return env;
  }

  /** {@code user@host:port/database}: where it points, without the password. */
  @Override
  public String toString() {
    return user + "@" + host + ":" + port + "/" + database;
  }
}

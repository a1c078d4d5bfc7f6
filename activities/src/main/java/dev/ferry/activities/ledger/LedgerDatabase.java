package dev.ferry.activities.ledger;

import dev.ferry.activities.postgres.PgUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Where Ferry's run ledger lives (a PostgreSQL database) and how to reach it; applies its schema
 * migrations ({@code db/ledger/V*.sql}, with Flyway).
 *
 * <p>The location is a {@code postgres://user:password@host:port/database} URL, a {@code
 * jdbc:postgresql://} URL, or {@code env:NAME} naming an environment variable that holds one,
 * so a configuration file never needs the password.
 */
public final class LedgerDatabase {
  static final String APPLICATION_NAME = "ferry-ledger";

  private final String jdbcUrl;
  private final Properties properties;
  private final String description;

  private LedgerDatabase(String jdbcUrl, Properties properties, String description) {
    this.jdbcUrl = jdbcUrl;
    this.properties = properties;
    this.description = description;
  }

  /**
   * @param location a postgres:// or jdbc:postgresql:// URL, or env:NAME
   * @param environment where env: references resolve
   * @throws IllegalArgumentException saying what is wrong, never repeating a password
   */
  public static LedgerDatabase of(String location, Map<String, String> environment) {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException("ledger url is not set");
    }
    String url = location.trim();
    String origin = "ledger url";
    if (url.startsWith("env:")) {
      String name = url.substring(4);
      origin = "ledger url (env:" + name + ")";
      url = environment.get(name);
      if (url == null || url.isBlank()) {
        throw new IllegalArgumentException(origin + ": " + name + " is not set in the environment");
      }
      url = url.trim();
    }
    if (url.startsWith("jdbc:postgresql:")) {
      Properties p = baseProperties();
      String where = url.replaceAll("[?].*", "").replaceFirst("^jdbc:postgresql://", "");
      return new LedgerDatabase(url, p, where);
    }
    try {
      PgUrl pg = PgUrl.parse(url);
      Properties p = pg.jdbcProperties(APPLICATION_NAME);
      return new LedgerDatabase(pg.jdbcUrl(), p, pg.toString());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(origin + " " + e.getMessage() + "; give postgres://user:password@host:port/database, jdbc:postgresql://… or env:NAME");
    }
  }

  private static Properties baseProperties() {
    Properties p = new Properties();
    p.setProperty("ApplicationName", APPLICATION_NAME);
    p.setProperty("connectTimeout", "10");
    p.setProperty("loginTimeout", "15");
    p.setProperty("tcpKeepAlive", "true");
    return p;
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, properties);
  }

  /**
   * Brings the schema up to date; safe to run from several processes at once (Flyway takes a
   * lock in the database).
   *
   * @return how many migrations it applied
   */
  public int migrate() {
    MigrateResult result =
        Flyway.configure(LedgerDatabase.class.getClassLoader())
            .dataSource(new SingleUrlDataSource(this))
            .locations("classpath:db/ledger")
            .table("ledger_schema_history")
            .baselineOnMigrate(false)
            .load()
            .migrate();
    return result.migrationsExecuted;
  }

  /** {@code user@host:port/database}: where it is, without the password. */
  @Override
  public String toString() {
    return description;
  }
}

package dev.ferry.testing.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One of the two local clusters {@code worker/dev/postgres-clusters.sh} creates ("heroku" on
 * 5433, "rds" on 5434, superuser {@code ferry}). Tests make their own databases in it, with
 * unique names, and drop them afterwards.
 */
public record TestCluster(String name, int port) {
  public static final TestCluster SOURCE = new TestCluster("heroku", envInt("FERRY_PG_SOURCE_PORT", 5433));
  public static final TestCluster TARGET = new TestCluster("rds", envInt("FERRY_PG_TARGET_PORT", 5434));
  public static final String USER = env("FERRY_PG_USER", "ferry");
  public static final String PASSWORD = env("FERRY_PG_PASSWORD", "ferry-local-only");

  /** A fresh database name, unique per call. */
  public static String uniqueDatabaseName(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  public String url(String database) {
    return "postgres://" + USER + ":" + PASSWORD + "@127.0.0.1:" + port + "/" + database;
  }

  public String urlWithPassword(String database, String password) {
    return "postgres://" + USER + ":" + password + "@127.0.0.1:" + port + "/" + database;
  }

  public Connection connect(String database) throws SQLException {
    return connect(database, null);
  }

  /** A session named {@code applicationName} (as an app's or a tool's), for tests that find it by that name. */
  public Connection connect(String database, String applicationName) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", USER);
    p.setProperty("password", PASSWORD);
    if (applicationName != null) {
      p.setProperty("ApplicationName", applicationName);
    }
    try {
      return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    } catch (SQLException e) {
      throw new SQLException(
          "cannot reach the test cluster "
              + name
              + " on port "
              + port
              + "; run worker/dev/postgres-clusters.sh (./ferry test does): "
              + e.getMessage(),
          e.getSQLState(),
          e);
    }
  }

  public void createDatabase(String database) throws SQLException {
    execute("postgres", "CREATE DATABASE " + database);
  }

  public void dropDatabase(String database) throws SQLException {
    execute("postgres", "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  public void execute(String database, String... statements) throws SQLException {
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
  }

  public long queryLong(String database, String sql) throws SQLException {
    try (Connection c = connect(database);
        Statement s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * The database's ordinary tables and materialized views analyzed by hand (an ANALYZE, not
   * autovacuum's), or, with {@code analyzed} false, not.
   */
  public long tablesAnalyzed(String database, boolean analyzed) throws SQLException {
    return queryLong(
        database,
        "SELECT count(*) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE c.relkind IN ('r', 'm')"
            + " AND s.last_analyze IS " + (analyzed ? "NOT NULL" : "NULL"));
  }

  /**
   * Creates a database as a copy of a fixture script (a test resource). The script runs once per
   * cluster and content, into a template database named after its hash; every later call copies
   * the template, which takes a fraction of a second where loading takes seconds.
   */
  public void createFromFixture(String database, String resource) throws Exception {
    byte[] script;
    try (var in = TestCluster.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("no test resource " + resource);
      }
      script = in.readAllBytes();
    }
    createFromScript(database, script);
  }

  /** {@link #createFromFixture}, for a script the caller has (for example the sample shop and more). */
  public void createFromScript(String database, byte[] script) throws Exception {
    String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(script)).substring(0, 12);
    String template = "ferry_fixture_" + hash;
    // Several test JVMs may get here at once: one loads, the others wait for it.
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_advisory_lock(hashtext('" + template + "'))");
      try {
        boolean exists;
        try (var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + template + "' AND datistemplate")) {
          exists = rs.next();
        }
        if (!exists) {
          s.execute("DROP DATABASE IF EXISTS " + template);
          s.execute("CREATE DATABASE " + template);
          Path file = Files.createTempFile("ferry-fixture-", ".sql");
          try {
            Files.write(file, script);
            runPsql(template, file);
          } finally {
            Files.deleteIfExists(file);
          }
          // Marked a template only once loaded: a half-loaded one is redone next time.
          s.execute("ALTER DATABASE " + template + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
        }
      } finally {
        s.execute("SELECT pg_advisory_unlock(hashtext('" + template + "'))");
      }
      s.execute("CREATE DATABASE " + database + " TEMPLATE " + template);
    }
  }

  /** Loads the sample shop (worker/dev/sample-shop.sql) into a database, with psql. */
  public void loadSampleShop(String database) throws IOException, InterruptedException {
    runPsql(database, sampleShopSql());
  }

  public void runPsql(String database, Path file) throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of("psql", "-X", "-q", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER, "-d", database, "-f", file.toString()))
            .redirectErrorStream(true);
    builder.environment().put("PGPASSWORD", PASSWORD);
    Process p = builder.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException("psql -f " + file + " failed: " + out);
    }
  }

  public static Path sampleShopSql() {
    String configured = System.getProperty("ferry.sampleShopSql");
    Path path = configured != null ? Path.of(configured) : Path.of("../worker/dev/sample-shop.sql");
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("sample database script not found at " + path.toAbsolutePath());
    }
    return path;
  }

  private static int envInt(String name, int fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : Integer.parseInt(v);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}

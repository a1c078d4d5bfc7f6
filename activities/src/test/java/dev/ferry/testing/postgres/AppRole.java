package dev.ferry.testing.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The app's own role on a source database, as on Heroku: no superuser, owner of the database and
 * of every schema, table, sequence, view and type the app made (Heroku's default credential is
 * that, and Ferry connects with it too). Its name is unique (roles are cluster-wide); it is
 * dropped with {@link #drop()} after the database is.
 */
public final class AppRole {
  public final String name;
  public final String password;
  private final TestCluster cluster;

  private AppRole(TestCluster cluster, String name, String password) {
    this.cluster = cluster;
    this.name = name;
    this.password = password;
  }

  /** Creates the role and hands it everything of the app's in {@code database}. */
  public static AppRole owning(TestCluster cluster, String database) throws SQLException {
    AppRole role = create(cluster, TestCluster.uniqueDatabaseName("fence_app"));
    cluster.execute("postgres", "ALTER DATABASE " + database + " OWNER TO " + role.name);
    // Object by object, never REASSIGN OWNED (that would move the superuser's objects of every
    // database, databases included).
    cluster.execute(database,
        "DO $$ DECLARE r record; BEGIN"
            + " FOR r IN SELECT n.nspname FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
            + "   LOOP EXECUTE format('ALTER SCHEMA %I OWNER TO " + role.name + "', r.nspname); END LOOP;"
            + " FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + "   WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            + "   LOOP EXECUTE format('ALTER %s %s OWNER TO " + role.name + "',"
            + "     CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,"
            + "     r.rel); END LOOP;"
            // Sequences a column owns moved with their table; the others now.
            + " FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + "   WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND c.relkind = 'S'"
            + "   AND c.relowner <> '" + role.name + "'::regrole"
            + "   LOOP EXECUTE format('ALTER SEQUENCE %s OWNER TO " + role.name + "', r.rel); END LOOP;"
            + " FOR r IN SELECT t.oid::regtype AS typ FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            + "   WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND t.typtype IN ('e', 'd')"
            + "   LOOP EXECUTE format('ALTER TYPE %s OWNER TO " + role.name + "', r.typ); END LOOP;"
            + " END $$");
    return role;
  }

  /** A plain login role with no rights of its own (for a role that is not the owner). */
  public static AppRole create(TestCluster cluster, String name) throws SQLException {
    AppRole role = new AppRole(cluster, name, "pw-" + name);
    cluster.execute("postgres", "CREATE ROLE " + name + " LOGIN NOSUPERUSER PASSWORD '" + role.password + "'");
    return role;
  }

  /** {@code postgres://role:password@127.0.0.1:port/database}, for a runbook's reference. */
  public String url(String database) {
    return "postgres://" + name + ":" + password + "@127.0.0.1:" + cluster.port() + "/" + database;
  }

  public Connection connect(String database) throws SQLException {
    return connect(database, "app");
  }

  public Connection connect(String database, String applicationName) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", name);
    p.setProperty("password", password);
    p.setProperty("ApplicationName", applicationName);
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + cluster.port() + "/" + database, p);
  }

  /**
   * Hands what the role owns in {@code database} (and the database) back to the test superuser,
   * then drops the role: for a database that lives on after the test.
   */
  public void handBackAndDrop(String database) throws SQLException {
    cluster.execute(database, "SET default_transaction_read_only = off",
        "REASSIGN OWNED BY " + name + " TO " + TestCluster.USER, "DROP OWNED BY " + name);
    drop();
  }

  /** Drops the role; the databases it owned must be gone (or handed back) first. */
  public void drop() throws SQLException {
    cluster.execute("postgres", "DROP ROLE IF EXISTS " + name);
  }
}

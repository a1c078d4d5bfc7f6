package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.PgUrl;
import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The subscription's connection string: quoted for libpq and SQL, and never shown whole. */
class LogicalConnInfoTest {
  /** A password with everything that needs quoting: a quote, a backslash, a space. */
  private static final String PASSWORD = "p'a\\ss word";
  private static final PgUrl SOURCE =
      PgUrl.parse("postgres://app:p%27a%5Css%20word@db.example.com:5433/shop?sslmode=require");

  @Test
  void quotesEveryValueForLibpq_andShowsNoPassword() {
    LogicalConnInfo conninfo = LogicalConnInfo.of(SOURCE);

    assertThat(conninfo.toString())
        .isEqualTo("host='db.example.com' port='5433' dbname='shop' user='app' password='********' sslmode='require' connect_timeout='10'")
        .doesNotContain("ss word");
  }

  @Test
  void masksThePasswordAsItIsAndAsLibpqAndSqlQuoteIt() {
    LogicalConnInfo conninfo = LogicalConnInfo.of(SOURCE);

    assertThat(conninfo.mask("raw " + PASSWORD + " libpq " + "p\\'a\\\\ss word" + " sql " + "p''a\\ss word"))
        .isEqualTo("raw ******** libpq ******** sql ********");
    assertThat(LogicalConnInfo.none().mask("nothing " + PASSWORD)).isEqualTo("nothing " + PASSWORD);
  }

  @Test
  void theSqlLiteralReachesPostgresIntact() throws Exception {
    String db = TestCluster.uniqueDatabaseName("conninfo");
    TestCluster.TARGET.createDatabase(db);
    LogicalConnInfo conninfo = LogicalConnInfo.of(SOURCE);
    try (Connection c = TestCluster.TARGET.connect(db);
        Statement s = c.createStatement()) {
      // connect = false: PostgreSQL parses the connection string (libpq's rules) but dials nothing.
      s.execute("CREATE SUBSCRIPTION probe CONNECTION " + conninfo.sqlLiteral()
          + " PUBLICATION p WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false)");
      try (var rs = s.executeQuery("SELECT subconninfo FROM pg_subscription WHERE subname = 'probe'")) {
        rs.next();
        assertThat(conninfo.mask(rs.getString(1))).isEqualTo(conninfo.toString());
      }
      s.execute("DROP SUBSCRIPTION probe");
    } finally {
      TestCluster.TARGET.dropDatabase(db);
    }
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PgUrlTest {

  @Test
  void herokuStyleUrl_givesJdbcAndLibpqSettings() {
    PgUrl url = PgUrl.parse("postgres://u1abc:p%40ss%3Aw0rd@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9k2?sslmode=require");

    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9k2");
    assertThat(url.jdbcProperties("ferry-x"))
        .containsEntry("user", "u1abc")
        .containsEntry("password", "p@ss:w0rd")
        .containsEntry("sslmode", "require")
        .containsEntry("ApplicationName", "ferry-x");
    assertThat(url.libpqEnvironment("ferry-x"))
        .containsEntry("PGHOST", "ec2-1-2-3-4.compute-1.amazonaws.com")
        .containsEntry("PGPORT", "5432")
        .containsEntry("PGDATABASE", "d9k2")
        .containsEntry("PGUSER", "u1abc")
        .containsEntry("PGPASSWORD", "p@ss:w0rd")
        .containsEntry("PGSSLMODE", "require")
        .containsEntry("PGAPPNAME", "ferry-x");
  }

  @Test
  void toString_leavesThePasswordOut() {
    PgUrl url = PgUrl.parse("postgresql://app:hunter2@db.internal/shop");

    assertThat(url).hasToString("app@db.internal:5432/shop");
    assertThat(url.port()).isEqualTo(5432);
  }

  @Test
  void ipv6Host_isBracketedForJdbcAndBareForLibpq() {
    PgUrl url = PgUrl.parse("postgres://u:p@[::1]:5433/shop");

    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5433/shop");
    assertThat(url.libpqEnvironment("x")).containsEntry("PGHOST", "::1");
  }

  @Test
  void plusSignInAPassword_staysAPlusSign() {
    assertThat(PgUrl.parse("postgres://u:a+b@h:1/d").jdbcProperties("x")).containsEntry("password", "a+b");
  }

  @Test
  void badUrls_areRefusedWithoutRepeatingThem() {
    assertThatThrownBy(() -> PgUrl.parse("mysql://u:hunter2@h/d"))
        .hasMessage("is not a PostgreSQL URL (postgres://user:password@host:port/database)");
    assertThatThrownBy(() -> PgUrl.parse("postgres://u:hunter2@h:5432/")).hasMessage("names no database");
    assertThatThrownBy(() -> PgUrl.parse("postgres://h:5432/d")).hasMessage("names no user");
    assertThatThrownBy(() -> PgUrl.parse("postgres://u:hun ter2@h/d"))
        .message()
        .doesNotContain("hun ter2");
  }
}

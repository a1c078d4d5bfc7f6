package dev.ferry.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CredentialMaskTest {
  @Test
  void urlPasswords_connectionStringPasswords_andPasswordMembers_areMasked() {
    assertThat(CredentialMask.maskText("postgres://ferry:hunter2@db:5432/shop"))
        .isEqualTo("postgres://ferry:***@db:5432/shop");
    assertThat(CredentialMask.maskText("host=db user=ferry password=hunter2 dbname=shop"))
        .isEqualTo("host=db user=ferry password=*** dbname=shop");
    assertThat(CredentialMask.maskText("jdbc:postgresql://db/shop?user=ferry&password=hunter2&ssl=true"))
        .isEqualTo("jdbc:postgresql://db/shop?user=ferry&password=***&ssl=true");
    assertThat(CredentialMask.maskText("{\"user\":\"ferry\",\"password\":\"hun\\\"ter2\"}"))
        .isEqualTo("{\"user\":\"ferry\",\"password\":\"***\"}");
    assertThat(CredentialMask.maskText("redis://:hunter2@cache:6379")).isEqualTo("redis://:hunter2@cache:6379".replace("hunter2", "***"));
  }

  @Test
  void whatFerryPutsInPayloads_staysAsItIs() {
    for (String text :
        java.util.List.of(
            "{\"databaseUrl\":\"env:HEROKU_DATABASE_URL\",\"target\":\"ssm:/shop/DATABASE_URL\"}",
            "scratch:ferry_rehearsal_1a2b3c4d@env:SHOP_TARGET_URL",
            "target (env:SHOP_UNREACHABLE_URL → ferry@127.0.0.1:1/shop): cannot connect",
            "https://shop-aws.example.com/health",
            "jdbc:postgresql://db.internal:5432/shop",
            "{\"app\":\"shop\",\"phase\":\"awaiting approval: cutover\"}")) {
      assertThat(CredentialMask.maskText(text)).isEqualTo(text);
    }
  }
}

package dev.ferry.activities.aws;

import static dev.ferry.testing.ActivityFailures.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.heroku.HerokuClient;
import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.ConfigVarActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.config.ConfigVarCopy;
import dev.ferry.model.config.ConfigVarsCopied;
import dev.ferry.model.config.ConfigVarsVerified;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.testing.aws.FakeSsm;
import dev.ferry.testing.heroku.FakeHeroku;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.http.HttpClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConfigVarActivitiesTest {
  static final String TOKEN = "hrku-5be0-config-token";
  static final String HEROKU_DB = "postgres://u:heroku-db-pass@ec2-1.compute.amazonaws.com:5432/d1";
  static final String RDS_DB = "postgres://shop:rds-db-pass@shop-db.eu-west-1.rds.amazonaws.com:5432/shop";
  static final String REDIS = "rediss://:redis-pass@ec2-2.compute.amazonaws.com:6380";
  static final String SECRET_KEY_BASE = "skb-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  static final String PAPERTRAIL = "pt-token-skipped-value";
  static final List<String> VALUES = List.of(TOKEN, HEROKU_DB, RDS_DB, REDIS, SECRET_KEY_BASE, PAPERTRAIL);
  static final String PREFIX = "/shop/production";
  static final ConfigVarCopy COPY =
      new ConfigVarCopy(
          new HerokuApp("shop-production", "env:HEROKU_API_KEY"),
          PREFIX,
          List.of("PAPERTRAIL_API_TOKEN"),
          Map.of("DATABASE_URL", "env:RDS_DATABASE_URL"));

  FakeHeroku heroku;
  FakeSsm ssm;
  TestActivityEnvironment env;
  ConfigVarActivities configVars;

  @BeforeEach
  void start() throws Exception {
    heroku = new FakeHeroku(TOKEN);
    heroku.app("shop-production")
        .configVar("DATABASE_URL", HEROKU_DB)
        .configVar("REDIS_URL", REDIS)
        .configVar("SECRET_KEY_BASE", SECRET_KEY_BASE)
        .configVar("PAPERTRAIL_API_TOKEN", PAPERTRAIL)
        .configVar("FEATURE_FLAGS", "");
    ssm = new FakeSsm();
    SecretResolver secrets =
        new SecretResolver(Map.of("HEROKU_API_KEY", TOKEN, "RDS_DATABASE_URL", RDS_DB), ssm::client, SecretPolicy.of("env:HEROKU_API_KEY,env:RDS_DATABASE_URL,env:NOT_SET,ssm:/shop/*"));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new ConfigVarActivitiesImpl(secrets, new HerokuClient(HttpClient.newHttpClient(), heroku.baseUrl()), ssm::client));
    configVars = env.newActivityStub(ConfigVarActivities.class);
  }

  @AfterEach
  void stop() {
    env.close();
    ssm.close();
    heroku.close();
  }

  @Test
  void copy_writesSecureStrings_skipsAndRewritesAsTheRunbookSays() throws Exception {
    ConfigVarsCopied copied = configVars.copyConfigVarsToSsm(COPY);

    assertThat(ssm.names())
        .containsExactly(PREFIX + "/DATABASE_URL", PREFIX + "/REDIS_URL", PREFIX + "/SECRET_KEY_BASE");
    assertThat(ssm.value(PREFIX + "/DATABASE_URL")).isEqualTo(RDS_DB);
    assertThat(ssm.value(PREFIX + "/REDIS_URL")).isEqualTo(REDIS);
    assertThat(ssm.names()).allSatisfy(n -> assertThat(ssm.type(n)).isEqualTo("SecureString"));
    assertThat(copied.copied()).isEqualTo(3);
    assertThat(copied.written()).containsExactly("DATABASE_URL", "REDIS_URL", "SECRET_KEY_BASE");
    assertThat(copied.rewritten()).containsExactly("DATABASE_URL");
    assertThat(copied.skipped()).containsExactly("PAPERTRAIL_API_TOKEN");
    assertThat(copied.empty()).containsExactly("FEATURE_FLAGS");
    assertNoValueIn(new ObjectMapper().writeValueAsString(copied));
  }

  @Test
  void copyAgain_findsItsOwnWork_andWritesNothing() {
    configVars.copyConfigVarsToSsm(COPY);
    long puts = puts();

    ConfigVarsCopied again = configVars.copyConfigVarsToSsm(COPY);

    assertThat(again.written()).isEmpty();
    assertThat(again.unchanged()).containsExactly("DATABASE_URL", "REDIS_URL", "SECRET_KEY_BASE");
    assertThat(puts()).isEqualTo(puts);
  }

  @Test
  void verifyAfterCopy_isComplete() throws Exception {
    configVars.copyConfigVarsToSsm(COPY);
    ssm.put("/shop/production/LEGACY_SETTING", "old");

    ConfigVarsVerified verified = configVars.verifyConfigVarsInSsm(COPY);

    assertThat(verified.complete()).isTrue();
    assertThat(verified.expected()).isEqualTo(3);
    assertThat(verified.extra()).containsExactly("LEGACY_SETTING");
    assertNoValueIn(new ObjectMapper().writeValueAsString(verified));
  }

  @Test
  void aParameterMissingAfterCopy_failsTheCheck_namingTheKeyNotTheValue() throws Exception {
    configVars.copyConfigVarsToSsm(COPY);
    ssm.delete(PREFIX + "/REDIS_URL");

    ConfigVarsVerified verified = configVars.verifyConfigVarsInSsm(COPY);

    assertThat(verified.complete()).isFalse();
    assertThat(verified.missing()).containsExactly("REDIS_URL");
    assertThat(verified.summary()).contains("missing REDIS_URL");
    assertNoValueIn(new ObjectMapper().writeValueAsString(verified) + verified.summary());
  }

  @Test
  void aWriteThatGotLost_isCaughtByTheCheck() {
    ssm.losePutsOf(PREFIX + "/SECRET_KEY_BASE");
    configVars.copyConfigVarsToSsm(COPY);

    assertThat(configVars.verifyConfigVarsInSsm(COPY).missing()).containsExactly("SECRET_KEY_BASE");
  }

  @Test
  void aValueChangedOnEitherSide_orStoredInPlainText_failsTheCheck() {
    configVars.copyConfigVarsToSsm(COPY);
    heroku.app("shop-production").configVar("SECRET_KEY_BASE", "rotated-on-heroku-after-the-copy");
    ssm.put(PREFIX + "/REDIS_URL", REDIS, "String");

    ConfigVarsVerified verified = configVars.verifyConfigVarsInSsm(COPY);

    assertThat(verified.differing()).containsExactly("SECRET_KEY_BASE");
    assertThat(verified.notSecure()).containsExactly("REDIS_URL");
    assertThat(verified.complete()).isFalse();
  }

  @Test
  void manyConfigVars_arePagedThrough() {
    for (int i = 0; i < 25; i++) {
      heroku.app("shop-production").configVar("SETTING_" + i, "value-" + i);
    }

    configVars.copyConfigVarsToSsm(COPY);
    ConfigVarsVerified verified = configVars.verifyConfigVarsInSsm(COPY);

    assertThat(verified.complete()).isTrue();
    assertThat(verified.expected()).isEqualTo(28);
    assertThat(configVars.copyConfigVarsToSsm(COPY).unchanged()).hasSize(28);
  }

  @Test
  void herokuRefusingTheToken_isFinal_withoutTheToken() {
    ConfigVarCopy wrongToken =
        new ConfigVarCopy(new HerokuApp("shop-production", "env:RDS_DATABASE_URL"), PREFIX, List.of(), Map.of());

    ApplicationFailure f = failure(() -> configVars.copyConfigVarsToSsm(wrongToken), Errors.HEROKU_AUTH_FAILED, true);

    assertNoValueIn(f.getOriginalMessage());
    assertThat(ssm.names()).isEmpty();
  }

  @Test
  void ssmAccessDenied_isFinal_throttlingIsRetried_andNoValueIsQuoted() {
    ssm.failCalls("AmazonSSM.PutParameter", "AccessDeniedException", 400);
    ApplicationFailure denied = failure(() -> configVars.copyConfigVarsToSsm(COPY), Errors.AWS_ACCESS_DENIED, true);
    assertNoValueIn(denied.getOriginalMessage());

    ssm.failCalls("AmazonSSM.PutParameter", "KMSAccessDeniedException", 400);
    failure(() -> configVars.copyConfigVarsToSsm(COPY), Errors.AWS_ACCESS_DENIED, true);

    ssm.failCalls("AmazonSSM.PutParameter", "TooManyUpdates", 400);
    failure(() -> configVars.copyConfigVarsToSsm(COPY), Errors.AWS_UNAVAILABLE, false);
  }

  @Test
  void aValueSsmRefuses_isFinal_andItsValueIsNotRepeated() {
    String huge = "x".repeat(9000) + "-huge-secret-value";
    heroku.app("shop-production").configVar("BIG_CERT", huge);

    ApplicationFailure f = failure(() -> configVars.copyConfigVarsToSsm(COPY), Errors.CONFIG_VAR_UNSUPPORTED, true);

    assertThat(f.getOriginalMessage()).contains("BIG_CERT").doesNotContain("huge-secret-value");
  }

  @Test
  void aKeySsmCannotName_isFinalUnlessSkipped() {
    heroku.app("shop-production").configVar("WEIRD KEY", "v");

    ApplicationFailure f = failure(() -> configVars.copyConfigVarsToSsm(COPY), Errors.CONFIG_VAR_UNSUPPORTED, true);
    assertThat(f.getOriginalMessage()).contains("WEIRD KEY", "configVars.skip");

    ConfigVarCopy skipping = new ConfigVarCopy(COPY.source(), PREFIX, List.of("PAPERTRAIL_API_TOKEN", "WEIRD KEY"), COPY.rewrite());
    assertThat(configVars.copyConfigVarsToSsm(skipping).skipped()).contains("WEIRD KEY");
  }

  @Test
  void aRewriteReferenceThatDoesNotResolve_isFinal() {
    ConfigVarCopy broken = new ConfigVarCopy(COPY.source(), PREFIX, List.of(), Map.of("DATABASE_URL", "env:NOT_SET"));

    ApplicationFailure f = failure(() -> configVars.copyConfigVarsToSsm(broken), Errors.SECRET_UNRESOLVED, true);
    assertThat(f.getOriginalMessage()).startsWith("configVars.rewrite.DATABASE_URL: env:NOT_SET");
  }

  private long puts() {
    return ssm.requests().stream().filter(r -> r.path("_action").asText().equals("AmazonSSM.PutParameter")).count();
  }

  private static void assertNoValueIn(String text) {
    for (String value : VALUES) {
      assertThat(text).doesNotContain(value);
    }
  }
}

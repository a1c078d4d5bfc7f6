package dev.ferry.activities.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.testing.aws.FakeSsm;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SecretResolverTest {
  static final String URL = "postgres://shop:s3cr3t-value@db.internal:5432/shop";

  FakeSsm ssm;
  AtomicInteger clientsMade = new AtomicInteger();
  SecretResolver resolver;

  @BeforeEach
  void start() throws Exception {
    ssm = new FakeSsm().put("/shop/DATABASE_URL", URL);
    resolver =
        new SecretResolver(
            Map.of(
                "HEROKU_DATABASE_URL", URL,
                "EMPTY", "",
                "OTHER_APP_DATABASE_URL", URL,
                "FERRY_LEDGER_URL", URL,
                "AWS_SECRET_ACCESS_KEY", "s3cr3t-value",
                "TEMPORAL_API_KEY", "s3cr3t-value",
                "PGPASSWORD", "s3cr3t-value"),
            () -> {
              clientsMade.incrementAndGet();
              return ssm.client();
            },
            SecretPolicy.of("env:HEROKU_*,env:MISSING,env:EMPTY,ssm:/shop/*"));
  }

  @AfterEach
  void stop() {
    ssm.close();
  }

  @Test
  void envReference_readsTheWorkersEnvironment_withoutTouchingAws() {
    assertThat(resolver.resolve("source.databaseUrl", "env:HEROKU_DATABASE_URL")).isEqualTo(URL);
    assertThat(clientsMade).hasValue(0);
  }

  @Test
  void unsetOrEmptyEnvVariable_isFinalAndNamesTheFieldAndReference() {
    assertFinal(
        () -> resolver.resolve("target.databaseUrl", "env:MISSING"),
        "target.databaseUrl: env:MISSING is not set in the worker's environment");
    assertFinal(
        () -> resolver.resolve("target.databaseUrl", "env:EMPTY"),
        "target.databaseUrl: env:EMPTY is not set in the worker's environment");
  }

  @Test
  void ssmReference_readsTheDecryptedParameterThroughTheSdk() {
    assertThat(resolver.resolve("target.databaseUrl", "ssm:/shop/DATABASE_URL")).isEqualTo(URL);

    assertThat(ssm.requests()).singleElement().satisfies(r -> {
      assertThat(r.path("_action").asText()).isEqualTo("AmazonSSM.GetParameter");
      assertThat(r.path("Name").asText()).isEqualTo("/shop/DATABASE_URL");
      assertThat(r.path("WithDecryption").asBoolean()).isTrue();
    });
  }

  @Test
  void ssmClientIsMadeOnceAndReused() {
    resolver.resolve("a", "ssm:/shop/DATABASE_URL");
    resolver.resolve("b", "ssm:/shop/DATABASE_URL");

    assertThat(clientsMade).hasValue(1);
  }

  @Test
  void missingParameter_isFinal() {
    assertFinal(
        () -> resolver.resolve("target.databaseUrl", "ssm:/shop/NOPE"),
        "target.databaseUrl: ssm:/shop/NOPE does not exist in SSM Parameter Store");
  }

  @Test
  void accessDenied_isFinal() {
    ssm.failEveryCall("AccessDeniedException", 400);

    assertFinal(
        () -> resolver.resolve("target.databaseUrl", "ssm:/shop/DATABASE_URL"),
        "target.databaseUrl: ssm:/shop/DATABASE_URL cannot be read from SSM: AccessDeniedException");
  }

  @Test
  void throttlingOrAnOutage_isRetryable() {
    ssm.failEveryCall("ThrottlingException", 400);
    assertRetryable(() -> resolver.resolve("f", "ssm:/shop/DATABASE_URL"));

    ssm.failEveryCall("InternalServerError", 500);
    assertRetryable(() -> resolver.resolve("f", "ssm:/shop/DATABASE_URL"));
  }

  @Test
  void aWorkerThatCannotMakeAnSsmClient_isFinal() {
    SecretResolver noAws =
        new SecretResolver(
            Map.of(),
            () -> {
              throw new IllegalStateException("Unable to load region from any of the providers in the chain");
            },
            SecretPolicy.of("ssm:/shop/*"));

    assertThatThrownBy(() -> noAws.resolve("target.databaseUrl", "ssm:/shop/DATABASE_URL"))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage()).contains("cannot make an SSM client", "Unable to load region");
            });
  }

  @Test
  void aReferenceOutsideTheAllowList_isRefusedFinally_namingFieldAndReferenceButNotTheValue() {
    assertThatThrownBy(() -> resolver.resolve("source.databaseUrl", "env:OTHER_APP_DATABASE_URL"))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage())
                  .startsWith("source.databaseUrl: env:OTHER_APP_DATABASE_URL is not among the references this worker may resolve")
                  .contains("FERRY_SECRET_REFS")
                  .doesNotContain("s3cr3t-value");
            });
  }

  @Test
  void anSsmPathOutsideTheAllowList_isRefusedWithoutAskingSsm() {
    ssm.put("/other-app/DATABASE_URL", URL);

    assertThatThrownBy(() -> resolver.resolve("target.databaseUrl", "ssm:/other-app/DATABASE_URL"))
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED));
    // The glob covers the path below /shop/, not a sibling that starts the same.
    assertThatThrownBy(() -> resolver.resolve("target.databaseUrl", "ssm:/shopping/DATABASE_URL"))
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED));
    assertThat(clientsMade).hasValue(0);
    assertThat(ssm.requests()).isEmpty();
  }

  @Test
  void ferrysOwnSettings_areNeverResolved_evenWhenTheListAllowsEveryVariable() {
    SecretResolver everything =
        new SecretResolver(
            Map.of("FERRY_LEDGER_URL", URL, "AWS_SECRET_ACCESS_KEY", "s3cr3t-value", "TEMPORAL_API_KEY", "s3cr3t-value",
                "PGPASSWORD", "s3cr3t-value", "ferry_payload_key", "s3cr3t-value"),
            () -> {
              throw new IllegalStateException("no SSM here");
            },
            SecretPolicy.of("env:*"));

    for (String own : java.util.List.of("FERRY_LEDGER_URL", "AWS_SECRET_ACCESS_KEY", "TEMPORAL_API_KEY", "PGPASSWORD", "ferry_payload_key")) {
      assertThatThrownBy(() -> everything.resolve("source.databaseUrl", "env:" + own))
          .as(own)
          .isInstanceOfSatisfying(
              ApplicationFailure.class,
              f -> {
                assertThat(f.getType()).isEqualTo(Errors.SECRET_REFUSED);
                assertThat(f.isNonRetryable()).isTrue();
                assertThat(f.getOriginalMessage()).startsWith("source.databaseUrl: env:" + own).doesNotContain("s3cr3t-value", "postgres://");
              });
    }
  }

  @Test
  void aLiteralUrlInsteadOfAReference_isFinalAndNotEchoed() {
    assertThatThrownBy(() -> resolver.resolve("source.databaseUrl", URL))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED);
              assertThat(f.getOriginalMessage()).doesNotContain("s3cr3t-value");
            });
  }

  private static void assertFinal(Runnable call, String message) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_UNRESOLVED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage()).isEqualTo(message);
            });
  }

  private static void assertRetryable(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.SECRET_STORE_UNAVAILABLE);
              assertThat(f.isNonRetryable()).isFalse();
            });
  }
}

package dev.ferry.activities.heroku;

import static dev.ferry.testing.ActivityFailures.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.secrets.SecretPolicy;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.HerokuActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.heroku.DynoQuantity;
import dev.ferry.model.heroku.Formation;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.model.heroku.MaintenanceChange;
import dev.ferry.testing.heroku.FakeHeroku;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HerokuActivitiesTest {
  static final String TOKEN = "hrku-3f9a1c07-secret-token";
  static final HerokuApp SHOP = new HerokuApp("shop-production", "env:HEROKU_API_KEY");

  FakeHeroku heroku;
  TestActivityEnvironment env;
  HerokuActivities activities;

  @BeforeEach
  void start() throws Exception {
    heroku = new FakeHeroku(TOKEN);
    heroku.app("shop-production").dynos("web", 3).dynos("worker", 2);
    env = TestActivityEnvironment.newInstance();
    SecretResolver secrets =
        new SecretResolver(Map.of("HEROKU_API_KEY", TOKEN, "WRONG_KEY", "hrku-not-the-token"), () -> {
          throw new IllegalStateException("no SSM in this test");
        }, SecretPolicy.of("env:HEROKU_API_KEY,env:WRONG_KEY,env:NOT_SET"));
    env.registerActivitiesImplementations(
        new HerokuActivitiesImpl(secrets, new HerokuClient(HttpClient.newHttpClient(), heroku.baseUrl())));
    activities = env.newActivityStub(HerokuActivities.class);
  }

  @AfterEach
  void stop() {
    env.close();
    heroku.close();
  }

  @Test
  void maintenanceMode_goesOnAndOff_andSaysWhatItWasBefore() {
    MaintenanceChange on = activities.setMaintenance(SHOP, true);

    assertThat(on).isEqualTo(new MaintenanceChange("shop-production", false, true));
    assertThat(heroku.maintenance("shop-production")).isTrue();

    MaintenanceChange off = activities.setMaintenance(SHOP, on.before());
    assertThat(off).isEqualTo(new MaintenanceChange("shop-production", true, false));
    assertThat(heroku.maintenance("shop-production")).isFalse();
    assertThat(heroku.calls()).containsExactly(
        "GET /apps/shop-production", "PATCH /apps/shop-production",
        "GET /apps/shop-production", "PATCH /apps/shop-production");
  }

  @Test
  void maintenanceMode_alreadyAsAsked_changesNothing() {
    heroku.app("shop-production").maintenance(true);

    MaintenanceChange change = activities.setMaintenance(SHOP, true);

    assertThat(change).isEqualTo(new MaintenanceChange("shop-production", true, true));
    assertThat(heroku.calls()).containsExactly("GET /apps/shop-production");
  }

  @Test
  void decommission_scalesToZero_andTheCompensationScalesBack() {
    Formation found = activities.readFormation(SHOP);
    assertThat(found.processes())
        .containsExactly(new DynoQuantity("web", 3, "standard-1X"), new DynoQuantity("worker", 2, "standard-1X"));

    Formation zero = activities.scaleFormation(SHOP, found.scaledToZero());
    assertThat(zero.dynos()).isZero();
    assertThat(heroku.formation("shop-production")).isEqualTo(Map.of("web", 0, "worker", 0));

    activities.scaleFormation(SHOP, found.processes());
    assertThat(heroku.formation("shop-production")).isEqualTo(Map.of("web", 3, "worker", 2));
  }

  @Test
  void scaling_isIdempotent_andRefusesAnUnknownProcessType() {
    activities.scaleFormation(SHOP, List.of(new DynoQuantity("web", 3, null)));
    assertThat(heroku.calls()).noneMatch(c -> c.startsWith("PATCH"));

    ApplicationFailure f =
        failure(
            () -> activities.scaleFormation(SHOP, List.of(new DynoQuantity("clock", 0, null))),
            Errors.HEROKU_REQUEST_REFUSED,
            true);
    assertThat(f.getOriginalMessage()).contains("no process type clock", "web, worker");
  }

  @Test
  void aTokenHerokuRefuses_isFinal_andNamesTheReferenceNotTheToken() {
    HerokuApp wrong = new HerokuApp("shop-production", "env:WRONG_KEY");

    ApplicationFailure f = failure(() -> activities.setMaintenance(wrong, true), Errors.HEROKU_AUTH_FAILED, true);

    assertThat(f.getOriginalMessage())
        .contains("heroku.apiToken", "env:WRONG_KEY", "401 unauthorized: Invalid credentials provided.")
        .doesNotContain("hrku-not-the-token")
        .doesNotContain(TOKEN);
    assertThat(heroku.maintenance("shop-production")).isFalse();
  }

  @Test
  void anUnknownApp_isFinal() {
    ApplicationFailure f =
        failure(
            () -> activities.readFormation(new HerokuApp("shop-staging", "env:HEROKU_API_KEY")),
            Errors.HEROKU_APP_NOT_FOUND,
            true);

    assertThat(f.getOriginalMessage()).contains("source.herokuApp", "shop-staging", "404 not_found");
  }

  @Test
  void rateLimiting_isRetried_afterHerokusRetryAfter() {
    heroku.rateLimitNext(1, "30");

    ApplicationFailure f = failure(() -> activities.setMaintenance(SHOP, true), Errors.HEROKU_UNAVAILABLE, false);

    assertThat(f.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(30));
    assertThat(f.getOriginalMessage()).contains("429 rate_limit", "after 30s").doesNotContain(TOKEN);
    // The retry goes through once Heroku lets it.
    assertThat(activities.setMaintenance(SHOP, true).after()).isTrue();
  }

  @Test
  void rateLimitingWithoutRetryAfter_leavesTheDelayToTheRetryPolicy() {
    heroku.rateLimitNext(1, null);

    ApplicationFailure f = failure(() -> activities.readFormation(SHOP), Errors.HEROKU_UNAVAILABLE, false);

    assertThat(f.getNextRetryDelay()).isNull();
  }

  @Test
  void anOutage_isRetryable() {
    heroku.failNext(1, 503);

    failure(() -> activities.readFormation(SHOP), Errors.HEROKU_UNAVAILABLE, false);
  }

  @Test
  void anUnsetTokenReference_isFinal() {
    ApplicationFailure f =
        failure(
            () -> activities.setMaintenance(new HerokuApp("shop-production", "env:NOT_SET"), true),
            Errors.SECRET_UNRESOLVED,
            true);

    assertThat(f.getOriginalMessage()).startsWith("heroku.apiToken: env:NOT_SET");
    assertThat(heroku.calls()).isEmpty();
  }
}

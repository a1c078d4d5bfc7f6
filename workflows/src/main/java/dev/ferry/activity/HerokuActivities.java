package dev.ferry.activity;

import dev.ferry.model.heroku.DynoQuantity;
import dev.ferry.model.heroku.Formation;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.model.heroku.MaintenanceChange;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * The Heroku Platform API. The token is resolved from its reference inside the activity and
 * never appears in inputs, results, failures or logs.
 *
 * <p>Failures: a token Heroku refuses (401, 403) is final ({@code HerokuAuthFailed}), so is an
 * app it does not know ({@code HerokuAppNotFound}) or a request it rejects ({@code
 * HerokuRequestRefused}, e.g. an unknown process type); rate limiting (429, honouring
 * Retry-After) and outages are retried ({@code HerokuUnavailable}). Options: {@code
 * ActivityCatalog.herokuApi()}.
 *
 * <p>The workflow: with {@code heroku.maintenanceMode}, {@code change = setMaintenance(app,
 * true)} with the source freeze, and as its compensation (and after cutover) {@code
 * setMaintenance(app, change.before())}. With {@code heroku.scaleDownAtDecommission}: {@code
 * found = readFormation(app)}, register {@code scaleFormation(app, found.processes())} as the
 * compensation, then {@code scaleFormation(app, found.scaledToZero())}.
 */
@ActivityInterface
public interface HerokuActivities {
  /**
   * Turns maintenance mode on or off ({@code PATCH /apps/{app}}); looks first and changes
   * nothing when it already is as asked. Idempotent.
   */
  MaintenanceChange setMaintenance(HerokuApp app, boolean on);

  /** The app's process types and dyno counts ({@code GET /apps/{app}/formation}). Reads only. */
  Formation readFormation(HerokuApp app);

  /**
   * Sets the dyno count of each listed process type ({@code PATCH /apps/{app}/formation});
   * types not listed are left. Idempotent. Returns the formation after.
   */
  Formation scaleFormation(HerokuApp app, List<DynoQuantity> quantities);
}

package dev.ferry.model.runbook;

/**
 * How Ferry drives the Heroku app named by {@code source.herokuApp} through the Platform API.
 *
 * @param apiToken a reference to a Platform API token ({@code env:HEROKU_API_KEY}), never the
 *     token
 * @param maintenanceMode whether the app is put in maintenance mode while the source is frozen
 *     (true)
 * @param scaleDownAtDecommission whether the app's dynos are scaled to zero at decommission
 *     (false)
 */
public record HerokuSpec(String apiToken, boolean maintenanceMode, boolean scaleDownAtDecommission) {}

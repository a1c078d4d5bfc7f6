package dev.ferry.model.heroku;

/**
 * A Heroku app and the reference to the Platform API token that may drive it.
 *
 * @param app the app name ({@code source.herokuApp})
 * @param apiTokenRef {@code env:NAME} or {@code ssm:/path} ({@code heroku.apiToken}); resolved
 *     only inside the activity
 */
public record HerokuApp(String app, String apiTokenRef) {}

package dev.ferry.activity;

import dev.ferry.model.config.ConfigVarCopy;
import dev.ferry.model.config.ConfigVarsCopied;
import dev.ferry.model.config.ConfigVarsVerified;
import io.temporal.activity.ActivityInterface;

/**
 * The Heroku app's config vars → SSM Parameter Store. Inputs hold references and key names;
 * results hold key names and counts: a value never leaves the activity (not in history,
 * failures or logs).
 *
 * <p>The workflow: {@code copyConfigVarsToSsm} before cutover (after the source is frozen, so
 * no config change slips between copy and cutover), then {@code verifyConfigVarsInSsm}; when its
 * result is not {@code complete}, fail with {@code Errors.CONFIG_VARS_MISMATCH} and its {@code
 * summary()} before any traffic moves (the seeds' "environment variables migrated out of order
 * cause silent auth failures"). Nothing to compensate: parameters are only written under the
 * runbook's prefix, and nothing reads them before cutover. Options: {@code
 * ActivityCatalog.configVars()}.
 */
@ActivityInterface
public interface ConfigVarActivities {
  /**
   * Reads the app's config vars ({@code GET /apps/{app}/config-vars}) and writes each as a
   * SecureString parameter {@code <prefix>/<KEY>}, except the skipped keys; a rewritten key
   * takes the value of its reference. Looks before writing: a parameter that already holds the
   * value is left, so a retry finds its own work. Heartbeats after every key. Final failures:
   * Heroku's ({@code HerokuAuthFailed}, {@code HerokuAppNotFound}), a rewrite reference that
   * does not resolve ({@code SecretUnresolved}), a key SSM cannot name ({@code
   * ConfigVarUnsupported}), IAM ({@code AwsAccessDenied}).
   */
  ConfigVarsCopied copyConfigVarsToSsm(ConfigVarCopy copy);

  /**
   * Reads Heroku's config vars again and the parameters under the prefix (decrypted), and
   * reports every expected key that is missing, holds another value or is not a SecureString.
   * A mismatch is a result, not an exception. Reads only.
   */
  ConfigVarsVerified verifyConfigVarsInSsm(ConfigVarCopy copy);
}

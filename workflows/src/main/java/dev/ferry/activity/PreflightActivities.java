package dev.ferry.activity;

import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.PreflightReport;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface PreflightActivities {
  /**
   * Connects to both databases and checks that the migration can run: both reachable with the
   * given credentials, the target server not older than the source, the worker's pg_dump not
   * older than the source, the target database empty. Reads only; safe to retry.
   *
   * <p>Final failures name the side and the cause: {@code SecretUnresolved}, {@code
   * DatabaseAuthFailed}, {@code DatabaseNotFound}, {@code IncompatibleVersions}, {@code
   * TargetNotEmpty}, {@code ToolMissing}. {@code DatabaseUnreachable} is retried a few times.
   */
  PreflightReport auditDatabases(DatabasePair databases);
}

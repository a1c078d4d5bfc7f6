package dev.ferry.model;

import java.util.List;

/**
 * The {@code ApplicationFailure} types Ferry raises. Activities raise them where the world says
 * no; the workflow keeps the type when it fails, so the Temporal UI and the API show the cause.
 */
public final class Errors {
  /** A secret reference ({@code env:}, {@code ssm:}) does not resolve on the worker. Final. */
  public static final String SECRET_UNRESOLVED = "SecretUnresolved";
  /**
   * A secret reference this worker's deployment does not allow ({@code FERRY_SECRET_REFS}), or one
   * of Ferry's own settings. Final; refused before any connection is tried.
   */
  public static final String SECRET_REFUSED = "SecretRefused";
  /** The secret store (SSM) failed or throttled. Retryable. */
  public static final String SECRET_STORE_UNAVAILABLE = "SecretStoreUnavailable";
  /**
   * The source keeps a step waiting on something of its own that passes (a transaction open for
   * long, a replication slot another session still reads, WAL not yet flushed). Retryable.
   */
  public static final String SOURCE_BUSY = "SourceBusy";
  /** A database refuses the connection or times out. Retried a few times, then final. */
  public static final String DATABASE_UNREACHABLE = "DatabaseUnreachable";
  /** Wrong user or password. Final: retrying cannot fix it. */
  public static final String DATABASE_AUTH_FAILED = "DatabaseAuthFailed";
  /** The database named in the URL does not exist. Final. */
  public static final String DATABASE_NOT_FOUND = "DatabaseNotFound";
  /** The target server is older than the source, or pg_dump is older than the source. Final. */
  public static final String INCOMPATIBLE_VERSIONS = "IncompatibleVersions";
  /** The target database already holds tables; Ferry restores only into an empty one. Final. */
  public static final String TARGET_NOT_EMPTY = "TargetNotEmpty";
  /** pg_dump or pg_restore is not installed on the worker. Final. */
  public static final String TOOL_MISSING = "ToolMissing";
  /** pg_dump or pg_restore was killed (worker shutdown, OOM killer). Retryable. */
  public static final String TOOL_KILLED = "ToolKilled";
  /** pg_dump failed in a way retrying cannot fix. */
  public static final String SNAPSHOT_FAILED = "SnapshotFailed";
  /** The snapshot's files are not on the host that should hold them; the workflow takes a new one. */
  public static final String SNAPSHOT_MISSING = "SnapshotMissing";
  /**
   * The source cannot export a snapshot, or refuses {@code SET TRANSACTION SNAPSHOT} (a
   * connection pooler in between, a server without the feature): the streaming copy cannot run
   * there; {@code snapshot.method: dump} can. Final.
   */
  public static final String SNAPSHOT_REFUSED = "SnapshotRefused";
  /** The streaming copy's snapshot was lost more times than the run starts it again. Final. */
  public static final String SNAPSHOT_LOST = "SnapshotLost";
  /** pg_restore stopped on an error (it runs with --exit-on-error). */
  public static final String RESTORE_FAILED = "RestoreFailed";
  /** Source and target differ after the restore. */
  public static final String VERIFICATION_FAILED = "VerificationFailed";
  /** The source uses an extension the target server cannot install. Final. */
  public static final String EXTENSION_UNAVAILABLE = "ExtensionUnavailable";
  /** A database has too few free connection slots for the run's parallel jobs. Retryable. */
  public static final String NO_CONNECTION_SLOTS = "NoConnectionSlots";
  /** A source sequence has no counterpart on the target. Final. */
  public static final String SEQUENCE_MISSING = "SequenceMissing";
  /**
   * The source cannot be frozen: the credential does not own the database or some of the app's
   * tables (named), or another run's write fence is on it. Final; preflight refuses it first.
   */
  public static final String FREEZE_REFUSED = "FreezeRefused";
  /** A gate was rejected (by a person or its deadline); what ran is undone. */
  public static final String REJECTED = "Rejected";
  /** The sync did not catch up under the runbook's lag within its catch-up timeout. */
  public static final String SYNC_BEHIND = "SyncBehind";
  /** A worker without continuous sync refused a multi-phase run (Ferry before sync existed). Final. */
  public static final String SYNC_UNAVAILABLE = "SyncUnavailable";
  /**
   * The source's schema changed while the sync ran (a table, column, constraint or index was
   * added, dropped or altered): neither sync method carries DDL. Final.
   */
  public static final String SCHEMA_CHANGED = "SchemaChanged";
  /**
   * The source cannot be kept in sync by the runbook's method (a table without a primary key
   * for {@code trigger}, no replication privilege for {@code logical}). Final.
   */
  public static final String SYNC_REFUSED = "SyncRefused";
  /** Changes kept arriving while draining: the source is not frozen. Final. */
  public static final String SOURCE_NOT_FROZEN = "SourceNotFrozen";
  /** The notification webhook refused the message (4xx). Final. */
  public static final String NOTIFICATION_REFUSED = "NotificationRefused";
  /** The notification webhook did not answer or failed (5xx). Retryable. */
  public static final String NOTIFICATION_FAILED = "NotificationFailed";
  /**
   * A rehearsal cannot create its scratch database: the target's credential lacks CREATEDB, or
   * the name is not a scratch database's. Final.
   */
  public static final String SCRATCH_DATABASE_REFUSED = "ScratchDatabaseRefused";
  /** A step failed for a reason Ferry does not classify further. */
  public static final String STEP_FAILED = "StepFailed";

  // The cutover edge: Route 53, smoke checks, Heroku Platform API, config vars, RDS.
  /** The Route 53 hosted zone does not exist (or the credentials cannot see it). Final. */
  public static final String DNS_ZONE_NOT_FOUND = "DnsZoneNotFound";
  /** The name has records Ferry cannot shift (alias, other weighted set identifiers). Final. */
  public static final String DNS_RECORDS_UNSUPPORTED = "DnsRecordsUnsupported";
  /** Route 53 refused a change batch (InvalidChangeBatch, InvalidInput). Final. */
  public static final String DNS_CHANGE_REFUSED = "DnsChangeRefused";
  /** The smoke checks failed during a traffic step; the workflow rolled traffic back. Final. */
  public static final String SMOKE_CHECKS_FAILED = "SmokeChecksFailed";
  /** The AWS credentials may not do this (IAM, KMS) or are missing. Final. */
  public static final String AWS_ACCESS_DENIED = "AwsAccessDenied";
  /** An AWS API throttled or failed on its side. Retryable. */
  public static final String AWS_UNAVAILABLE = "AwsUnavailable";
  /** Heroku refused the API token (401, 403). Final. */
  public static final String HEROKU_AUTH_FAILED = "HerokuAuthFailed";
  /** Heroku does not know the app (404). Final. */
  public static final String HEROKU_APP_NOT_FOUND = "HerokuAppNotFound";
  /** Heroku rejected the request itself (422: an unknown process type, …). Final. */
  public static final String HEROKU_REQUEST_REFUSED = "HerokuRequestRefused";
  /** Heroku rate-limited (429) or failed (5xx, connection). Retryable, after Retry-After. */
  public static final String HEROKU_UNAVAILABLE = "HerokuUnavailable";
  /** A config var's key cannot name an SSM parameter. Final. */
  public static final String CONFIG_VAR_UNSUPPORTED = "ConfigVarUnsupported";
  /** SSM does not hold every config var with Heroku's value after the copy. Final. */
  public static final String CONFIG_VARS_MISMATCH = "ConfigVarsMismatch";
  /** The RDS instance does not exist. Final. */
  public static final String RDS_INSTANCE_NOT_FOUND = "RdsInstanceNotFound";
  /** The RDS restore point could not be taken (snapshot failed, quota, name taken). Final. */
  public static final String RESTORE_POINT_FAILED = "RestorePointFailed";

  /** The types no retry policy should retry. */
  public static final List<String> NON_RETRYABLE =
      List.of(
          SECRET_UNRESOLVED,
          SECRET_REFUSED,
          DATABASE_AUTH_FAILED,
          DATABASE_NOT_FOUND,
          INCOMPATIBLE_VERSIONS,
          TARGET_NOT_EMPTY,
          TOOL_MISSING,
          SNAPSHOT_FAILED,
          SNAPSHOT_MISSING,
          SNAPSHOT_REFUSED,
          SNAPSHOT_LOST,
          RESTORE_FAILED,
          VERIFICATION_FAILED,
          EXTENSION_UNAVAILABLE,
          SEQUENCE_MISSING,
          FREEZE_REFUSED,
          SCRATCH_DATABASE_REFUSED,
          SYNC_UNAVAILABLE,
          SCHEMA_CHANGED,
          SYNC_REFUSED,
          SOURCE_NOT_FROZEN,
          NOTIFICATION_REFUSED,
          DNS_ZONE_NOT_FOUND,
          DNS_RECORDS_UNSUPPORTED,
          DNS_CHANGE_REFUSED,
          SMOKE_CHECKS_FAILED,
          AWS_ACCESS_DENIED,
          HEROKU_AUTH_FAILED,
          HEROKU_APP_NOT_FOUND,
          HEROKU_REQUEST_REFUSED,
          CONFIG_VAR_UNSUPPORTED,
          CONFIG_VARS_MISMATCH,
          RDS_INSTANCE_NOT_FOUND,
          RESTORE_POINT_FAILED);

  private Errors() {}
}

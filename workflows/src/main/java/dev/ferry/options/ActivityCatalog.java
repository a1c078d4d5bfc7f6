package dev.ferry.options;

import dev.ferry.model.Errors;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/**
 * Every activity's timeouts and retry policy, in one place.
 *
 * <p>Long activities heartbeat at least every few seconds; a heartbeat timeout of one minute
 * lets a dead worker's activity be retried elsewhere in about a minute without flagging a busy
 * one.
 */
public final class ActivityCatalog {
  public static final Duration HEARTBEAT_TIMEOUT = Duration.ofMinutes(1);

  /** How long a host-bound task may wait for its host's worker before Ferry gives up on the host. */
  public static final Duration HOST_WAIT = Duration.ofMinutes(30);

  private static final RetryOptions QUICK_RETRIES =
      RetryOptions.newBuilder()
          .setInitialInterval(Duration.ofSeconds(2))
          .setBackoffCoefficient(2.0)
          .setMaximumInterval(Duration.ofSeconds(30))
          .setMaximumAttempts(4)
          .setDoNotRetry(Errors.NON_RETRYABLE.toArray(String[]::new))
          .build();

  private static final RetryOptions LONG_RETRIES =
      RetryOptions.newBuilder()
          .setInitialInterval(Duration.ofSeconds(10))
          .setBackoffCoefficient(2.0)
          .setMaximumInterval(Duration.ofMinutes(5))
          .setMaximumAttempts(6)
          .setDoNotRetry(Errors.NON_RETRYABLE.toArray(String[]::new))
          .build();

  private ActivityCatalog() {}

  /**
   * The queue of the activities that run until the cutover (the sync's apply loop and the
   * pre-verification), beside a workflow queue. A worker polls it with slots of its own
   * ({@code FERRY_MAX_LOOPS}), so loops that hold their slot for days never leave the steps
   * (a lag measure, a drain, a freeze) waiting for one: with one queue, two multi-phase runs'
   * four loops filled a worker's four slots and both runs stopped at the pre-verification.
   */
  public static String loopQueue(String workflowQueue) {
    return workflowQueue + "-loops";
  }

  /** Connect and read facts: quick, retried a few times so an unreachable database fails soon. */
  public static ActivityOptions preflight() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2))
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /** pg_dump: long, heartbeated, on any worker. */
  public static ActivityOptions snapshot() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofHours(24))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  /**
   * pg_restore: long, heartbeated, on the host that holds the snapshot. If that host's worker
   * does not take the task within {@code hostWait} (normally {@link #HOST_WAIT}), the workflow
   * takes a new snapshot.
   */
  public static ActivityOptions restore(String hostTaskQueue, Duration hostWait) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(hostTaskQueue)
        .setScheduleToStartTimeout(hostWait)
        .setStartToCloseTimeout(Duration.ofHours(24))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  // The streaming copy (snapshot.method: stream): the copiers on the shared queue, so copies spread
  // over workers; the holder, a loop for the copy's duration, on the loop queue.

  /** {@link #copySnapshot(String)} on the workflow's own queue (runs begun before stream-copy-holder-loop). */
  public static ActivityOptions copySnapshot() {
    return copySnapshot(null);
  }

  /**
   * The snapshot's holder: runs for the copy's duration, heartbeating every second, on {@code
   * loopQueue} ({@link #loopQueue}: it holds its slot as long as the copy lasts, so it must not
   * take one the copiers need), or on the workflow's own queue when it is {@code null}. Never
   * retried by Temporal: a lost snapshot cannot come back, so the workflow decides (a new
   * snapshot). Its heartbeat timeout is how soon a dead worker's holder is noticed.
   */
  public static ActivityOptions copySnapshot(String loopQueue) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(loopQueue)
        .setStartToCloseTimeout(Duration.ofDays(7))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build();
  }

  /**
   * Planning, the copiers and the finish: long, heartbeated, retried after a crash (a copier's
   * retry takes its own unfinished chunk back). A copier cancelled when its snapshot is lost stops
   * at its next heartbeat. Never started eagerly: the copiers go through the queue to whichever
   * workers poll it, so that they spread, rather than to the worker whose workflow task scheduled
   * them (which saves nothing worth having on a copy of minutes).
   */
  public static ActivityOptions copyWork() {
    return ActivityOptions.newBuilder()
        .setDisableEagerExecution(true)
        .setStartToCloseTimeout(Duration.ofHours(48))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  /**
   * Claiming the target, the copy's verification report, ending it (also as compensation, so it
   * retries long enough to outlast a blip): quick, on any worker.
   */
  public static ActivityOptions copyControl() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(30))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  /** Deleting dump files: on the snapshot's host, best effort. */
  public static ActivityOptions discardSnapshot(String hostTaskQueue) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(hostTaskQueue)
        .setScheduleToStartTimeout(Duration.ofMinutes(10))
        .setStartToCloseTimeout(Duration.ofMinutes(10))
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /**
   * Freeze and unfreeze the source, and sync sequences: a few statements each, retried a few
   * times. As compensations they must not give up early on a blip.
   */
  public static ActivityOptions sourceChanges() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(5))
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /**
   * A rehearsal's scratch database: create, drop (also as clean-up after a failure or a
   * cancellation, so it retries long enough to outlast a blip), and the freeze probe.
   */
  public static ActivityOptions scratchDatabase() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(5))
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  /** Schema copy and initial copy of a multi-phase run: long, heartbeated. */
  public static ActivityOptions syncSetup() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofHours(48))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  /**
   * Applying changes until the cutover: runs for days, heartbeated; retried without limit while
   * the run lasts (it is idempotent, and drain catches up whatever it missed).
   */
  public static ActivityOptions syncApply() {
    return syncApply(null);
  }

  /**
   * {@link #syncApply()} on {@code loopQueue} ({@link #loopQueue}), or on the workflow's own queue
   * when it is {@code null}.
   */
  public static ActivityOptions syncApply(String loopQueue) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(loopQueue)
        .setStartToCloseTimeout(Duration.ofDays(30))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setCancellationType(io.temporal.activity.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setRetryOptions(
            RetryOptions.newBuilder(LONG_RETRIES).setMaximumAttempts(0).build())
        .build();
  }

  /**
   * Pre-verifying while the sync runs: until the cutover, heartbeated; retried without limit while
   * the run lasts (it resumes from the proofs it keeps on the target), but a difference it proves
   * ({@code VerificationFailed}) stops it for good.
   */
  public static ActivityOptions preverify(String loopQueue) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(loopQueue)
        .setStartToCloseTimeout(Duration.ofDays(30))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setCancellationType(io.temporal.activity.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setRetryOptions(RetryOptions.newBuilder(LONG_RETRIES).setMaximumAttempts(0).build())
        .build();
  }

  /** Measuring lag, draining with the source frozen, tearing the sync down. */
  public static ActivityOptions syncControl() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofHours(1))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /** A webhook POST: quick, a few retries, then the run goes on without it. */
  public static ActivityOptions notification() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(30))
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /** Checksums on both sides: long on big databases, heartbeated every few seconds. */
  public static ActivityOptions verify() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofHours(12))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(LONG_RETRIES)
        .build();
  }

  // The cutover edge: Route 53, smoke checks, Heroku Platform API, config vars, RDS.

  /** Retries for remote APIs: rate limits and outages pass, a Retry-After sets the delay. */
  private static final RetryOptions API_RETRIES =
      RetryOptions.newBuilder()
          .setInitialInterval(Duration.ofSeconds(2))
          .setBackoffCoefficient(2.0)
          .setMaximumInterval(Duration.ofMinutes(1))
          .setMaximumAttempts(8)
          .setDoNotRetry(Errors.NON_RETRYABLE.toArray(String[]::new))
          .build();

  /** Reading Route 53 records: quick. */
  public static ActivityOptions dnsRead() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2))
        .setRetryOptions(API_RETRIES)
        .build();
  }

  /**
   * Changing Route 53 records and waiting for INSYNC (usually under a minute), heartbeated
   * every poll. Also the compensation that puts traffic back on Heroku: it retries long.
   */
  public static ActivityOptions dnsChange() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(15))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(API_RETRIES)
        .build();
  }

  /**
   * Smoke checks for one dwell: the activity runs as long as the dwell, heartbeats every
   * round, and a retry resumes the dwell where it stopped. A failed check is a result, not a
   * failure, so retries only cover a lost worker.
   */
  public static ActivityOptions smokeChecks(Duration dwell) {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(dwell.plus(Duration.ofMinutes(5)))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /** Heroku Platform API calls: quick; 429 waits out Retry-After. */
  public static ActivityOptions herokuApi() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2))
        .setRetryOptions(API_RETRIES)
        .build();
  }

  /** Config vars → SSM and their check: one Heroku read and a few SSM calls per key. */
  public static ActivityOptions configVars() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(10))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        .setRetryOptions(API_RETRIES)
        .build();
  }

  /** An RDS snapshot as restore point: minutes to hours on a big instance, heartbeated. */
  public static ActivityOptions rdsSnapshot() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofHours(6))
        .setHeartbeatTimeout(Duration.ofMinutes(2))
        .setRetryOptions(API_RETRIES)
        .build();
  }

  /**
   * Reading the ledger for a gate's evidence (the cutover budget): a few quick retries, then the
   * gate opens saying the reports could not be read, rather than wait for the ledger forever.
   */
  public static ActivityOptions ledgerRead() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofSeconds(30))
        .setRetryOptions(QUICK_RETRIES)
        .build();
  }

  /**
   * A run event into the ledger: quick, retried without limit (it is idempotent), started
   * without waiting so a ledger outage never holds a step up. Never started eagerly: the few
   * eager starts a workflow task may ask for belong to the step it schedules beside the event.
   */
  public static ActivityOptions ledger() {
    return ActivityOptions.newBuilder()
        .setDisableEagerExecution(true)
        .setStartToCloseTimeout(Duration.ofSeconds(30))
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofSeconds(1))
                .setBackoffCoefficient(2.0)
                .setMaximumInterval(Duration.ofMinutes(1))
                .setMaximumAttempts(0)
                .build())
        .build();
  }
}

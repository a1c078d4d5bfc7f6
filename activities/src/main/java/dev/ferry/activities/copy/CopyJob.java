package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.model.copy.CopyRequest;

/**
 * One copy, resolved: both databases and the names of what the copy makes, all derived from the
 * request's idempotency key, so every call on any worker finds the same bookkeeping and sessions.
 *
 * @param runKey the run (the workflow id): the target's claim is the run's, as for a restore
 */
record CopyJob(CopyRequest request, Endpoint source, Endpoint target, String runKey) {
  /** The first 12 hex digits of the idempotency key: short enough for every identifier. */
  String tag() {
    return CopyBook.tagOf(request.idempotencyKey());
  }

  /** The bookkeeping schema on the target. */
  String schema() {
    return CopyBook.SCHEMA_PREFIX + tag();
  }

  /** {@code ferry-copy-<tag>-<role>}: how the copy finds (and ends) its own sessions. */
  String applicationName(String role) {
    return applicationPrefix() + role;
  }

  String applicationPrefix() {
    return "ferry-copy-" + tag() + "-";
  }

  int epoch() {
    return request.epoch();
  }

  int jobs() {
    return Math.max(1, request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs());
  }

  /** The trigger method's initial copy: the source takes writes, the capture records them. */
  boolean captured() {
    return CopyRequest.CAPTURED.equals(request.mode());
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import java.util.Locale;

/**
 * One run's sync, resolved: both databases and the names of what the sync installs, derived
 * from the request's idempotency key so that every attempt (on any worker) finds the same
 * objects.
 *
 * @param workflowId the run, for {@code application_name} (Ferry finds and ends its own sessions)
 */
record SyncSession(SyncRequest request, Endpoint source, Endpoint target, String workflowId) {
  /** The first 12 hex digits of the idempotency key: short enough for every identifier. */
  String tag() {
    String hex = request.idempotencyKey().replace("-", "").toLowerCase(Locale.ROOT);
    return hex.length() > 12 ? hex.substring(0, 12) : hex;
  }

  /** Ferry's schema for this sync's bookkeeping (change table, state). */
  String schema() {
    return "ferry_sync_" + tag();
  }

  /** The capture triggers' name on every table (trigger method). */
  String triggerName() {
    return "ferry_capture_" + tag();
  }

  String publication() {
    return "ferry_pub_" + tag();
  }

  String subscription() {
    return "ferry_sub_" + tag();
  }

  String slot() {
    return "ferry_slot_" + tag();
  }

  /** The role the logical subscription logs in to the source as, when the run makes one. */
  String replicationRole() {
    return "ferry_repl_" + tag();
  }

  /** Whether the logical subscription logs in as {@link #replicationRole()} (else with the source credential). */
  boolean perRunRole() {
    return SyncSpec.PER_RUN_ROLE.equals(request.replicationRole());
  }

  int jobs() {
    return request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs();
  }

  /** {@code <prefix>-<workflow id>}, cut to the 63 bytes application_name holds. */
  String applicationName(String prefix) {
    String name = prefix + "-" + workflowId;
    return name.length() > 63 ? name.substring(0, 63) : name;
  }
}

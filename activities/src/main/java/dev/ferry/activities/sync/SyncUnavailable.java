package dev.ferry.activities.sync;

import dev.ferry.activity.SyncActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.failure.ApplicationFailure;

/**
 * What this worker answers a multi-phase run while continuous sync (trigger and logical) is not
 * built yet: a final failure that says so, at the first step that needs it, before anything on
 * the source is changed; the run then undoes nothing it did not do. Tearing down is a no-op.
 */
public class SyncUnavailable implements SyncActivities {
  private static ApplicationFailure unavailable() {
    return ApplicationFailure.newNonRetryableFailure(
        "continuous sync (multi-phase) is not available on this worker yet; use strategy single-phase",
        Errors.SYNC_UNAVAILABLE);
  }

  @Override
  public SyncSetup startSync(SyncRequest request) {
    throw unavailable();
  }

  @Override
  public void applyChanges(SyncRequest request) {
    throw unavailable();
  }

  @Override
  public SyncLag measureLag(SyncRequest request) {
    throw unavailable();
  }

  @Override
  public SyncLag drain(SyncRequest request) {
    throw unavailable();
  }

  @Override
  public void stopSync(SyncRequest request) {
    // Nothing was set up.
  }
}

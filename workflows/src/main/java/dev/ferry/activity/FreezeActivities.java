package dev.ferry.activity;

import dev.ferry.model.database.FreezeResult;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface FreezeActivities {
  /**
   * Makes the source database refuse writes: {@code ALTER DATABASE ... SET
   * default_transaction_read_only = on} (new sessions start read-only), then ends every other
   * session already connected to it, which could still write. Needs the database's owner (the
   * Heroku credential is). Idempotent; its compensation is {@link #unfreezeSource}.
   *
   * <p>It guards against the app, not against a client that turns read-only off for itself.
   * Final failure {@code FreezeRefused} when the credential may not alter the database.
   */
  FreezeResult freezeSource(String sourceUrlRef);

  /** Undoes {@link #freezeSource}: new sessions may write again. Idempotent. */
  void unfreezeSource(String sourceUrlRef);
}

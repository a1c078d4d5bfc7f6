package dev.ferry.activity;

import dev.ferry.model.database.FreezeResult;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface FreezeActivities {
  /**
   * Makes the source database refuse writes, whatever a client sets in its session: {@code ALTER
   * DATABASE ... SET default_transaction_read_only = on} (new sessions start read-only), ends
   * every other session already connected (the sync's own excepted), then installs the write
   * fence in one transaction: a statement trigger on every table of the app that refuses
   * INSERT, UPDATE, DELETE, TRUNCATE and COPY from any session not carrying this run's key (kept
   * by the workers, never in history), and, where the credential is a superuser, an event
   * trigger refusing DDL. Needs the owner of the database and of every table (the Heroku
   * credential is); the run is the workflow's, so a retry on any worker finds its own fence and
   * completes it. Idempotent; its compensation is {@link #unfreezeSource} (or {@link #liftFence}
   * where the source was read-only before the run).
   *
   * <p>Not fenced: sequences, large objects, and DDL where the credential is no superuser (the
   * drain and the final verify name what it changed); a superuser can always lift it. Final
   * failure {@code FreezeRefused}, naming what is missing (ownership of the database or of which
   * tables, another run's fence on the source), before anything changes; preflight refuses the
   * same.
   */
  FreezeResult freezeSource(String sourceUrlRef);

  /**
   * Undoes {@link #freezeSource}: removes this run's write fence (triggers, event trigger, its
   * schema) and resets {@code default_transaction_read_only}; new sessions may write again.
   * Idempotent: a fence already gone is fine. Another run's fence is left alone, and so is the
   * setting then.
   */
  void unfreezeSource(String sourceUrlRef);

  /**
   * Removes this run's write fence and leaves {@code default_transaction_read_only} as it is:
   * the compensation of a freeze of a source that was read-only before the run. Idempotent.
   */
  void liftFence(String sourceUrlRef);
}

package dev.ferry.activity;

import dev.ferry.model.rehearsal.ScratchDatabase;
import io.temporal.activity.ActivityInterface;

/**
 * What a rehearsal does to the world beyond the snapshot, restore and verify activities it shares
 * with a migration: its scratch database on the target's server, and a look at the source that
 * takes as long as freezing it would, without freezing it.
 */
@ActivityInterface
public interface RehearsalActivities {
  /**
   * Creates the scratch database on the target's server, connected through the server's {@code
   * postgres} database (never the production target database). Returns its reference ({@link
   * ScratchDatabase#reference()}) for the restore, verify and sequence activities.
   *
   * <p>Idempotent: a database of that name already there (an earlier attempt) is reused, once it
   * is checked to be a scratch database (its name). Final failure {@code
   * ScratchDatabaseRefused} when the target's credential may not create databases (it needs
   * CREATEDB), naming the role.
   */
  String createScratchDatabase(ScratchDatabase scratch);

  /**
   * Ends every session connected to the scratch database and drops it. Refuses any name but a
   * scratch database's. Idempotent: dropping what is gone succeeds.
   */
  void dropScratchDatabase(ScratchDatabase scratch);

  /**
   * Does on the source what freezing it does, in a transaction that is rolled back: the
   * freeze's checks (the credential owns the database and every table, no other run's fence),
   * its {@code ALTER DATABASE}, its write fence on every table (with a key no session has), then
   * a test write and, where DDL would be refused, a test {@code CREATE TABLE}; counts the
   * sessions a freeze would end without ending them. Nothing is committed, so nothing is frozen;
   * the app's writes wait for the table locks while it runs. Its duration stands in for the
   * freeze's in the downtime estimate.
   *
   * @return one line: whether a freeze would be allowed (or why not), what the fence refused,
   *     how many sessions it would end
   */
  String probeFreeze(String sourceUrlRef);
}

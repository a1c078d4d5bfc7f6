package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;

/** Being written. */
final class TriggerSync implements SyncMethod {
  private final Databases databases;
  private final InitialCopy copy;

  TriggerSync(Databases databases, InitialCopy copy) {
    this.databases = databases;
    this.copy = copy;
  }

  @Override
  public SyncSetup start(SyncSession session) {
    throw new UnsupportedOperationException("being written");
  }

  @Override
  public void apply(SyncSession session) {
    throw new UnsupportedOperationException("being written");
  }

  @Override
  public SyncLag lag(SyncSession session) {
    throw new UnsupportedOperationException("being written");
  }

  @Override
  public SyncLag drain(SyncSession session) {
    throw new UnsupportedOperationException("being written");
  }

  @Override
  public void stop(SyncSession session) {
    throw new UnsupportedOperationException("being written");
  }
}

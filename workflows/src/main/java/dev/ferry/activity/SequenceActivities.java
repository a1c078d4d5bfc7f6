package dev.ferry.activity;

import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.SequenceSync;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface SequenceActivities {
  /**
   * Sets every target sequence to the source's value (logical replication and trigger sync do
   * not carry sequences). Never moves a target sequence backwards: one already ahead (the target
   * took writes) is left, and reported. Idempotent. Final failure {@code SequenceMissing} when a
   * source sequence has no counterpart on the target.
   */
  SequenceSync syncSequences(DatabasePair databases);
}

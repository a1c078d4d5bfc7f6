package dev.ferry.activity;

import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface VerifyActivities {
  /**
   * Proves the target holds the source's data: every table's rows counted and checksummed in
   * primary-key chunks on both sides at once (tables without a primary key as one
   * order-independent checksum), the large objects, every sequence (the target must not be
   * behind), and the schema (tables, columns and their types, indexes, constraints). Names each
   * table and chunk that differs.
   *
   * <p>Reads only. Heartbeats {@code Progress} with a {@code VerifyCheckpoint} after every chunk
   * and resumes from it on retry. Exact only while the source takes no writes (frozen).
   */
  VerificationReport verifyDatabases(VerifyRequest request);
}

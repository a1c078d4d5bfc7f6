package dev.ferry.activity;

import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface VerifyActivities {
  /**
   * Counts the rows of every table on both sides, exactly ({@code count(*)}), and reports each
   * table, including tables that exist on one side only. Reads only; heartbeats {@code
   * Progress} (tables compared) and resumes from it on retry.
   */
  VerificationReport compareRowCounts(DatabasePair databases);
}

package dev.ferry.activity;

import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import io.temporal.activity.ActivityInterface;
import java.util.List;

/** The rehearsals' side of the run ledger: who else is running, and the reports. */
@ActivityInterface
public interface RehearsalLedgerActivities {
  /**
   * The app's runs the ledger shows as not ended (no {@code ended_at}), of any kind, the caller's
   * own included (so it can order itself among them by {@code created_at}), oldest first. Reads
   * only.
   */
  List<ActiveRun> activeRuns(String app);

  /**
   * Stores a rehearsal's report. Idempotent on the rehearsal id: recording it again changes
   * nothing. Retryable when the ledger cannot be reached.
   */
  void recordRehearsalReport(RehearsalReport report);

  /** The app's latest reports, newest first, at most {@code limit}. Reads only. */
  List<RehearsalReport> recentRehearsals(String app, int limit);
}

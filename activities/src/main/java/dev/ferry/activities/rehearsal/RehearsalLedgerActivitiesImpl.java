package dev.ferry.activities.rehearsal;

import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.ledger.TemporalRuns;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.model.rehearsal.ActiveRun;
import dev.ferry.model.rehearsal.RehearsalReport;
import io.temporal.failure.ApplicationFailure;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The rehearsals' side of the run ledger, over {@link RehearsalReportStore}. */
public class RehearsalLedgerActivitiesImpl implements RehearsalLedgerActivities {
  private static final Logger log = LoggerFactory.getLogger(RehearsalLedgerActivitiesImpl.class);

  private final RehearsalReportStore store;
  private final String where;

  private final TemporalRuns.RunningCheck running;

  /** Confirms the ledger's open runs with the Temporal client of the worker running the activity. */
  public RehearsalLedgerActivitiesImpl(LedgerDatabase ledger) {
    this(ledger, TemporalRuns::isRunningForActivity);
  }

  public RehearsalLedgerActivitiesImpl(LedgerDatabase ledger, TemporalRuns.RunningCheck running) {
    this.store = new RehearsalReportStore(ledger);
    this.where = ledger.toString();
    this.running = running;
  }

  /**
   * For a worker without a ledger: no run is ever seen as active (so rehearsals do not guard
   * against overlap) and reports are only logged. The worker says so when it starts.
   */
  public static RehearsalLedgerActivities withoutLedger() {
    return new RehearsalLedgerActivities() {
      @Override
      public List<ActiveRun> activeRuns(String app) {
        return List.of();
      }

      @Override
      public void recordRehearsalReport(RehearsalReport report) {
        log.info("no ledger: rehearsal {} of {} {} (estimated downtime {})",
            report.rehearsalId(), report.app(), report.outcome(), report.estimatedDowntime());
      }

      @Override
      public List<RehearsalReport> recentRehearsals(String app, int limit) {
        return List.of();
      }
    };
  }

  @Override
  public List<ActiveRun> activeRuns(String app) {
    try {
      // A run whose workflow ended without the ledger hearing of it (terminated from the
      // Temporal UI, say) would otherwise block the app's rehearsals forever.
      return store.activeRuns(app).stream().filter(r -> running.isRunning(r.runId())).toList();
    } catch (SQLException e) {
      throw unavailable("list the active runs of " + app, e);
    }
  }

  @Override
  public void recordRehearsalReport(RehearsalReport report) {
    try {
      store.record(report);
    } catch (SQLException e) {
      throw unavailable("take the report of " + report.rehearsalId(), e);
    }
  }

  @Override
  public List<RehearsalReport> recentRehearsals(String app, int limit) {
    try {
      return store.recent(app, limit);
    } catch (SQLException e) {
      throw unavailable("read the rehearsals of " + app, e);
    }
  }

  private ApplicationFailure unavailable(String what, SQLException e) {
    // A down ledger heals; the workflow's retry policy keeps trying.
    return ApplicationFailure.newFailure(
        "the ledger at " + where + " did not " + what + ": " + e.getMessage(), LedgerActivitiesImpl.LEDGER_UNAVAILABLE);
  }
}

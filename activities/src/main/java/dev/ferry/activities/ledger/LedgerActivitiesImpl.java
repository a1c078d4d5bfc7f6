package dev.ferry.activities.ledger;

import dev.ferry.activity.LedgerActivities;
import dev.ferry.model.RunEvent;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;

/**
 * Writes the workflow's events to the ledger: one transaction per event, which creates the
 * run's row when the ledger has none (a run started from the Temporal UI or CLI), stores the
 * event once per {@code (runId, seq)}, and moves the run's state forward.
 */
public class LedgerActivitiesImpl implements LedgerActivities {
  /** The error type when the ledger cannot take the event; retryable. */
  public static final String LEDGER_UNAVAILABLE = "LedgerUnavailable";

  private final LedgerDatabase ledger;

  public LedgerActivitiesImpl(LedgerDatabase ledger) {
    this.ledger = ledger;
  }

  @Override
  public void recordRunEvent(RunEvent event) {
    check(event);
    try (Connection c = ledger.connect()) {
      c.setAutoCommit(false);
      try {
        record(c, event);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      // A down or unreachable ledger heals; the workflow's retry policy keeps trying.
      throw ApplicationFailure.newFailureWithCause(
          "the ledger at " + ledger + " did not take event " + event.eventId() + ": " + e.getMessage(),
          LEDGER_UNAVAILABLE,
          null);
    }
  }

  static void record(Connection c, RunEvent e) throws SQLException {
    Timestamp at = Timestamp.from(e.at());
    String state = e.state() == null ? "RUNNING" : e.state().name();
    try (PreparedStatement run =
        c.prepareStatement(
            """
            INSERT INTO runs (run_id, kind, app, started_by, started_via, state, phase, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'temporal', ?, ?, ?, now())
            ON CONFLICT (run_id) DO NOTHING
            """)) {
      run.setString(1, e.runId());
      run.setString(2, (e.kind() == null ? RunKind.MIGRATION : e.kind()).label());
      run.setString(3, e.app() == null ? "" : e.app());
      run.setString(4, e.type() == RunEventType.STARTED ? e.actor() : null);
      run.setString(5, state);
      run.setString(6, e.step());
      run.setTimestamp(7, at);
      run.executeUpdate();
    }
    int inserted;
    try (PreparedStatement event =
        c.prepareStatement(
            """
            INSERT INTO run_events (run_id, seq, at, type, step, actor, detail, evidence_digest, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'workflow')
            ON CONFLICT (run_id, seq) DO NOTHING
            """)) {
      event.setString(1, e.runId());
      event.setLong(2, e.seq());
      event.setTimestamp(3, at);
      event.setString(4, e.type().name());
      nullable(event, 5, e.step());
      nullable(event, 6, e.actor());
      nullable(event, 7, e.detail());
      nullable(event, 8, e.evidenceDigest());
      inserted = event.executeUpdate();
    }
    if (inserted == 0) {
      return; // recorded before: a retry
    }
    try (PreparedStatement update =
        c.prepareStatement(
            """
            UPDATE runs
               SET state = ?,
                   phase = COALESCE(?, phase),
                   last_seq = ?,
                   updated_at = now(),
                   ended_at = CASE WHEN ? THEN ? ELSE ended_at END,
                   started_by = COALESCE(started_by, ?),
                   app = CASE WHEN app = '' THEN ? ELSE app END
             WHERE run_id = ?
               AND last_seq < ?
               AND state NOT IN ('SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED')
            """)) {
      boolean ended = e.state() != null && e.state().finished();
      update.setString(1, state);
      nullable(update, 2, e.step());
      update.setLong(3, e.seq());
      update.setBoolean(4, ended);
      update.setTimestamp(5, at);
      nullable(update, 6, e.type() == RunEventType.STARTED ? e.actor() : null);
      update.setString(7, e.app() == null ? "" : e.app());
      update.setString(8, e.runId());
      update.setLong(9, e.seq());
      update.executeUpdate();
    }
  }

  private static void check(RunEvent e) {
    if (e == null || e.runId() == null || e.runId().isBlank() || e.type() == null || e.seq() < 1 || e.at() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "a ledger event needs a runId, a seq from 1, a time and a type: " + e, "LedgerEventInvalid");
    }
  }

  private static void nullable(PreparedStatement s, int i, String value) throws SQLException {
    if (value == null) {
      s.setNull(i, Types.VARCHAR);
    } else {
      s.setString(i, value);
    }
  }
}

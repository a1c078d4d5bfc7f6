package dev.ferry.activities.sweep;

import dev.ferry.activities.ledger.LedgerDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the sweep reads of the run ledger (it writes nothing there): a run's state, and the
 * database references of the runbooks of recent runs and of rehearsal schedules, which are the
 * only databases a worker sweeps.
 */
final class SweepLedger {
  /** The states after which a run does nothing more (as the ledger's own indexes count them). */
  static final List<String> ENDED = List.of("SUCCEEDED", "FAILED", "REJECTED", "CANCELLED");

  record Run(String id, String kind, String state, boolean ended) {}

  /** A database reference of a runbook, and which side it is. */
  record Reference(String side, String reference) {}

  private final LedgerDatabase ledger;

  SweepLedger(LedgerDatabase ledger) {
    this.ledger = ledger;
  }

  Optional<Run> run(String id) {
    try (Connection c = ledger.connect();
        PreparedStatement s = c.prepareStatement("SELECT run_id, kind, state, ended_at IS NOT NULL FROM runs WHERE run_id = ?")) {
      s.setString(1, id);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(run(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the ledger at " + ledger + " did not answer: " + e.getMessage());
    }
  }

  /** Rehearsals whose id ends in {@code -<hex>}: the runs a scratch database of that hex may be of. */
  List<Run> rehearsalsEndingIn(String hex) {
    List<Run> runs = new ArrayList<>();
    try (Connection c = ledger.connect();
        PreparedStatement s =
            c.prepareStatement("SELECT run_id, kind, state, ended_at IS NOT NULL FROM runs WHERE kind = 'rehearsal' AND run_id LIKE ?")) {
      s.setString(1, "%-" + hex);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          runs.add(run(rs));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the ledger at " + ledger + " did not answer: " + e.getMessage());
    }
    return runs;
  }

  /**
   * The source and target references of the runbooks of runs that have not ended or ended within
   * {@code lookback}, and of rehearsal schedules (their rehearsals' rows carry no runbook).
   * Older runs' leftovers were looked for by the sweeps of those days.
   */
  Set<Reference> references(Duration lookback) {
    Set<Reference> refs = new LinkedHashSet<>();
    String sql =
        """
        SELECT runbook->'source'->>'databaseUrl', runbook->'target'->>'databaseUrl' FROM runs
         WHERE runbook IS NOT NULL AND (ended_at IS NULL OR ended_at > now() - make_interval(secs => ?))
        UNION ALL
        SELECT runbook->'source'->>'databaseUrl', runbook->'target'->>'databaseUrl' FROM schedules
         WHERE deleted_at IS NULL OR deleted_at > now() - make_interval(secs => ?)
        """;
    try (Connection c = ledger.connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setLong(1, lookback.toSeconds());
      s.setLong(2, lookback.toSeconds());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          if (rs.getString(1) != null) {
            refs.add(new Reference("source", rs.getString(1)));
          }
          if (rs.getString(2) != null) {
            refs.add(new Reference("target", rs.getString(2)));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the ledger at " + ledger + " did not answer: " + e.getMessage());
    }
    return refs;
  }

  @Override
  public String toString() {
    return ledger.toString();
  }

  private static Run run(ResultSet rs) throws SQLException {
    String state = rs.getString(3);
    return new Run(rs.getString(1), rs.getString(2), state, rs.getBoolean(4) || ENDED.contains(state));
  }
}

package dev.ferry.activities.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Keeps every comparison a verification made in the run ledger ({@code verifications}, {@code
 * verification_objects}), where {@code GET /api/runs/{id}/verification} pages through it. Writes
 * are upserts, a few hundred rows per transaction: a retried verification writes the same rows.
 * Failures are {@link IllegalStateException}s naming the ledger (never a password).
 */
public final class LedgerVerificationDetails implements VerificationDetails {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ROWS_PER_TRANSACTION = 500;

  private final LedgerDatabase ledger;

  public LedgerVerificationDetails(LedgerDatabase ledger) {
    this.ledger = ledger;
  }

  @Override
  public String where(Verification v) {
    return "every table and sequence compared: GET /api/runs/" + v.runId() + "/verification";
  }

  @Override
  public void begin(Verification v) {
    execute(
        "INSERT INTO verifications (run_id, activity_id) VALUES (?, ?) ON CONFLICT (run_id, activity_id) DO NOTHING",
        v.runId(), v.activityId());
  }

  @Override
  public void tables(Verification v, List<TableComparison> tables) {
    write(v, "table", tables, TableComparison::table, TableComparison::matches);
  }

  @Override
  public void sequences(Verification v, List<SequenceComparison> sequences) {
    write(v, "sequence", sequences, SequenceComparison::sequence, SequenceComparison::matches);
  }

  @Override
  public void schema(Verification v, List<SchemaDifference> differences) {
    write(v, "schema", differences, d -> d.kind() + " " + d.object(), d -> false);
  }

  @Override
  public void finish(Verification v, int mismatches) {
    execute(
        "UPDATE verifications SET finished_at = now(), mismatches = " + mismatches + " WHERE run_id = ? AND activity_id = ?",
        v.runId(), v.activityId());
  }

  private <T> void write(Verification v, String kind, List<T> objects, Function<T, String> name, Predicate<T> matches) {
    if (objects.isEmpty()) {
      return;
    }
    try (Connection c = ledger.connect()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO verification_objects (run_id, activity_id, kind, name, matches, detail) VALUES (?, ?, ?, ?, ?, ?::jsonb)"
                  + " ON CONFLICT (run_id, activity_id, kind, name) DO UPDATE SET matches = excluded.matches, detail = excluded.detail")) {
        int inBatch = 0;
        for (T o : objects) {
          ps.setString(1, v.runId());
          ps.setString(2, v.activityId());
          ps.setString(3, kind);
          ps.setString(4, name.apply(o));
          ps.setBoolean(5, matches.test(o));
          ps.setString(6, JSON.writeValueAsString(o));
          ps.addBatch();
          if (++inBatch == ROWS_PER_TRANSACTION) {
            ps.executeBatch();
            c.commit();
            inBatch = 0;
          }
        }
        if (inBatch > 0) {
          ps.executeBatch();
        }
        c.commit();
      } catch (SQLException | JsonProcessingException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException | JsonProcessingException e) {
      throw new IllegalStateException("the ledger at " + ledger + " did not take the verification's detail: " + e.getMessage(), e);
    }
  }

  private void execute(String sql, String runId, String activityId) {
    try (Connection c = ledger.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, runId);
      ps.setString(2, activityId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("the ledger at " + ledger + " did not take the verification's detail: " + e.getMessage(), e);
    }
  }
}

package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pre-verification leaves on the target, found and removed without the run that made it:
 * for the sweep ({@code dev.ferry.activities.sweep.Sweeper}). Its proofs are in {@code
 * ferry_verify_<12 hex>} ({@link VerifyLedger}), whose comment names the run ({@link RunComment}),
 * and its capture of writes outside the sync is a trigger pair named after that schema on each
 * app table ({@link TargetWriteCapture}). The logical method's key capture on the source is a
 * sync object ({@code dev.ferry.activities.sync.SyncLeftovers}).
 */
public final class PreverifyLeftovers {
  /**
   * One pre-verification's bookkeeping.
   *
   * @param run the run its comment names, or null (made before comments named it)
   */
  public record Leftover(String schema, String run) {}

  private PreverifyLeftovers() {}

  /** Every pre-verification's bookkeeping in the connection's database. */
  public static List<Leftover> find(Connection c) throws SQLException {
    List<Leftover> found = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname LIKE 'ferry\\_verify\\_%'");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String schema = rs.getString(1);
        if (VerifyLedger.named(schema).isPresent()) {
          found.add(new Leftover(schema, RunComment.runOf(rs.getString(2)).orElse(null)));
        }
      }
    }
    return found;
  }

  /**
   * Removes one, as the run's own teardown does: the capture's triggers table by table, then the
   * schema. Removing what is gone succeeds.
   */
  public static void remove(Connection c, Leftover leftover) throws SQLException {
    VerifyLedger ledger =
        VerifyLedger.named(leftover.schema())
            .orElseThrow(() -> new IllegalArgumentException("not a pre-verification's schema: " + leftover.schema()));
    TargetWriteCapture.remove(c, ledger);
    ledger.drop(c);
  }
}

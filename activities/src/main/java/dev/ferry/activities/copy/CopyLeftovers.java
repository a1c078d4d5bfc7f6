package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.RunComment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a streaming copy leaves on the target when its run ends without its compensation (a
 * worker gone for good): its bookkeeping schema {@code ferry_copy_<12 hex>}, whose comment names
 * the run ({@link RunComment}). Found and removed without the run, for the sweep ({@code
 * dev.ferry.activities.sweep.Sweeper}). The rows it copied are the target's, claimed by the run as
 * a restore's are: never swept.
 */
public final class CopyLeftovers {
  private static final Pattern SCHEMA = Pattern.compile(CopyBook.SCHEMA_PREFIX + "[0-9a-f]{1,12}");

  /**
   * One copy's bookkeeping.
   *
   * @param run the run its comment names, or null (made before comments named it)
   */
  public record Leftover(String schema, String run) {}

  private CopyLeftovers() {}

  /** Every streaming copy's bookkeeping in the connection's database. */
  public static List<Leftover> find(Connection c) throws SQLException {
    List<Leftover> found = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname LIKE 'ferry\\_copy\\_%'");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String schema = rs.getString(1);
        if (SCHEMA.matcher(schema).matches()) {
          found.add(new Leftover(schema, RunComment.runOf(rs.getString(2)).orElse(null)));
        }
      }
    }
    return found;
  }

  /** Drops one, as the copy's own {@code endCopy} does. Removing what is gone succeeds. */
  public static void remove(Connection c, Leftover leftover) throws SQLException {
    if (!SCHEMA.matcher(leftover.schema()).matches()) {
      throw new IllegalArgumentException("not a streaming copy's schema: " + leftover.schema());
    }
    try (Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + leftover.schema() + " CASCADE");
    }
  }
}

package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What preflight says about the write fence the freeze will install ({@link WriteFence}): what
 * would make the freeze refuse (preflight refuses the same, before the start gate), and who or
 * what could still get past the fence once it stands. Catalog reads only.
 *
 * @param refusals why the freeze would be refused, each naming what to change
 * @param warnings what the fence will not stop on this source
 */
record FenceAudit(List<String> refusals, List<String> warnings) {
  private static final String APP_TABLES =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND"
          + Catalog.USER_RELATION_FILTER;

  static FenceAudit of(Connection c, String runId) throws SQLException {
    WriteFence.Readiness ready = WriteFence.readiness(c);
    List<String> warnings = new ArrayList<>();
    if (!ready.superuser()) {
      warnings.add(
          "while frozen, DDL is not refused: an event trigger needs a superuser and " + ready.role() + " is none (as on"
              + " Heroku). A client that turns default_transaction_read_only off can still create, alter or drop tables,"
              + " and write to a table it created; the drain and the final verify name such a table and fail the run,"
              + " DDL after the final verify goes unseen. The owner's DDL can also drop the fence's triggers");
    }
    List<String> superusers = Catalog.strings(c,
        "SELECT rolname || CASE WHEN rolname = current_user THEN ' (this credential)' ELSE '' END FROM pg_roles"
            + " WHERE rolsuper AND rolcanlogin ORDER BY 1");
    if (!superusers.isEmpty()) {
      warnings.add(
          "superuser role(s) that may log in: " + String.join(", ", superusers) + "; a superuser session can remove the"
              + " write fence and write while the source is frozen: Ferry cannot stop it");
    }
    if (!ready.superuser()) {
      List<String> owners = Catalog.strings(c,
          "SELECT DISTINCT r.rolname FROM pg_roles r, (SELECT DISTINCT c.relowner" + APP_TABLES + ") o"
              + " WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname <> current_user"
              + " AND pg_has_role(r.oid, o.relowner, 'USAGE') ORDER BY 1");
      if (!owners.isEmpty()) {
        warnings.add(
            "other role(s) that may log in and act as owner of the app's tables: " + String.join(", ", owners)
                + "; without an event trigger their DDL can drop the fence's triggers");
      }
    }
    long sequences;
    long largeObjects;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S'"
                    + " AND" + Catalog.USER_RELATION_FILTER + "), (SELECT count(*) FROM pg_largeobject_metadata)")) {
      rs.next();
      sequences = rs.getLong(1);
      largeObjects = rs.getLong(2);
    }
    if (sequences > 0) {
      warnings.add(
          "sequences are not fenced: while frozen a client can still call nextval (after turning read-only off);"
              + " no row can be written with the value, and the sequence sync after the drain copies each sequence's"
              + " value then, so only a value used outside the database (an id handed out) could be given out again");
    }
    if (largeObjects > 0) {
      warnings.add(
          "large objects are not fenced: while frozen a client that turns read-only off can still create or change one"
              + " (lo_create, lowrite); the final verify compares them and fails the run when they differ");
    }
    return new FenceAudit(ready.refusals(runId), warnings);
  }
}

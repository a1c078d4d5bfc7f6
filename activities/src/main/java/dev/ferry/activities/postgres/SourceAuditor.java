package dev.ferry.activities.postgres;

import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.database.SourceAudit.ExtensionCheck;
import dev.ferry.model.database.SourceAudit.LogicalReplication;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the traps of a source schema for preflight (catalog queries only). */
final class SourceAuditor {
  private static final String APP_TABLE =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" + Catalog.USER_RELATION_FILTER;
  private static final String QUALIFIED = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)";

  private SourceAuditor() {}

  static SourceAudit audit(Connection source, Connection target) throws SQLException {
    return new SourceAudit(
        extensions(source, target),
        names(source,
            "SELECT " + QUALIFIED + APP_TABLE + " AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                + " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)"
                + " ORDER BY 1"),
        // Replica identity DEFAULT uses the primary key, NOTHING nothing; FULL and INDEX work.
        names(source,
            "SELECT " + QUALIFIED + " || ' (replica identity ' || CASE c.relreplident WHEN 'n' THEN 'nothing'"
                + " ELSE 'default, no primary key' END || ')'" + APP_TABLE + " AND c.relkind = 'r'"
                + " AND (c.relreplident = 'n' OR (c.relreplident = 'd'"
                + "   AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))"
                + " ORDER BY 1"),
        names(source,
            "SELECT " + QUALIFIED + " || '.' || quote_ident(a.attname) FROM pg_attribute a"
                + " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE a.attgenerated <> '' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')"
                + " AND NOT c.relispartition AND" + Catalog.USER_RELATION_FILTER + " ORDER BY 1"),
        Catalog.count(source, "SELECT count(*) FROM pg_largeobject_metadata"),
        names(source, "SELECT " + QUALIFIED + APP_TABLE + " AND c.relkind = 'r' AND c.relpersistence = 'u' ORDER BY 1"),
        names(source,
            "SELECT " + QUALIFIED + " || ' → ' || coalesce((SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname)"
                + "   || '.' || quote_ident(a.attname) FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid"
                + "   JOIN pg_namespace tn ON tn.oid = t.relnamespace"
                + "   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
                + "   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass"
                + "   AND d.deptype IN ('a', 'i') LIMIT 1), '(no owner)')"
                + APP_TABLE + " AND c.relkind = 'S' ORDER BY 1"),
        logicalReplication(source));
  }

  private static List<ExtensionCheck> extensions(Connection source, Connection target) throws SQLException {
    Map<String, String[]> onTarget = new HashMap<>();
    try (Statement s = target.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT a.name, a.default_version, n.nspname FROM pg_available_extensions a"
                    + " LEFT JOIN pg_extension e ON e.extname = a.name"
                    + " LEFT JOIN pg_namespace n ON n.oid = e.extnamespace")) {
      while (rs.next()) {
        onTarget.put(rs.getString(1), new String[] {rs.getString(2), rs.getString(3)});
      }
    }
    List<ExtensionCheck> checks = new ArrayList<>();
    try (Statement s = source.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT e.extname, e.extversion, n.nspname FROM pg_extension e"
                    + " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1")) {
      while (rs.next()) {
        String[] t = onTarget.get(rs.getString(1));
        checks.add(
            new ExtensionCheck(
                rs.getString(1), rs.getString(2), rs.getString(3), t != null, t == null ? null : t[0], t == null ? null : t[1]));
      }
    }
    return checks;
  }

  private static LogicalReplication logicalReplication(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting('wal_level'),"
                    + " (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user),"
                    + " current_setting('max_replication_slots')::int"
                    + "   - (SELECT count(*) FROM pg_replication_slots),"
                    + " current_setting('max_wal_senders')::int")) {
      rs.next();
      String walLevel = rs.getString(1);
      List<String> reasons = new ArrayList<>();
      if (!walLevel.equals("logical")) {
        reasons.add("wal_level is " + walLevel + ", not logical");
      }
      if (!rs.getBoolean(2)) {
        reasons.add("the role may not replicate (no REPLICATION attribute; Heroku grants none)");
      }
      if (rs.getInt(3) < 1) {
        reasons.add("no free replication slot");
      }
      if (rs.getInt(4) < 1) {
        reasons.add("max_wal_senders is 0");
      }
      return new LogicalReplication(reasons.isEmpty(), walLevel, reasons.isEmpty() ? null : String.join("; ", reasons));
    }
  }

  private static List<String> names(Connection c, String sql) throws SQLException {
    List<String> names = new ArrayList<>();
    int total = 0;
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        if (++total <= SourceAudit.MAX_NAMED) {
          names.add(rs.getString(1));
        }
      }
    }
    if (total > SourceAudit.MAX_NAMED) {
      names.add("… and " + (total - SourceAudit.MAX_NAMED) + " more");
    }
    return names;
  }
}

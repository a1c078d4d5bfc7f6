package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Catalog.Table;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Temporary keys on the target while the subscription copies.
 *
 * <p>The schema is restored in two parts: tables before the copy, indexes and constraints
 * after it (building them once over the copied rows is much faster than maintaining them
 * during the copy). But primary keys are constraints, so during the copy the target's tables
 * have none, and PostgreSQL's subscriber refuses to apply an UPDATE or DELETE to a table
 * without a replica identity index or primary key: with the app writing, the copy would never
 * finish. So before the subscription starts, every table gets a unique index on its source's
 * identity columns, set as its replica identity. They are dropped before the post-data restore,
 * with the subscription paused (its changes wait in the slot): left in place, they would be the
 * unique index the restored foreign keys pick (PostgreSQL takes the first matching one by oid),
 * and could not be dropped afterwards. Tables the source publishes with REPLICA IDENTITY FULL
 * need none.
 */
final class LogicalKeys {
  private LogicalKeys() {}

  /** Adds a temporary key to every table of {@code identities} that has no key on the target. */
  static int add(LogicalSide target, String tag, Map<Table, List<String>> identities) {
    int added = 0;
    for (Map.Entry<Table, List<String>> entry : identities.entrySet()) {
      Table table = entry.getKey();
      boolean keyless =
          target
              .queryOne(
                  "SELECT NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident))"
                      + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?",
                  rs -> rs.getBoolean(1),
                  table.schema(),
                  table.name())
              .orElse(false);
      if (!keyless) {
        continue;
      }
      String index = indexName(target, tag, table);
      String columns = entry.getValue().stream().map(Catalog::quote).collect(Collectors.joining(", "));
      target.execute("CREATE UNIQUE INDEX IF NOT EXISTS " + Catalog.quote(index) + " ON " + table.sql() + " (" + columns + ")");
      target.execute("ALTER TABLE " + table.sql() + " REPLICA IDENTITY USING INDEX " + Catalog.quote(index));
      added++;
    }
    return added;
  }

  /**
   * Drops every temporary key of this sync, first giving the table its default replica identity
   * back (the post-data restore then sets the source's own where it is an index). Idempotent.
   */
  static void drop(LogicalSide target, String tag) {
    record Key(String index, String table, boolean identity) {}
    List<Key> keys =
        target.query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname),"
                + " quote_ident(tn.nspname) || '.' || quote_ident(tc.relname), i.indisreplident"
                + " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace"
                + " JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace"
                + " WHERE ic.relname LIKE ?",
            rs -> new Key(rs.getString(1), rs.getString(2), rs.getBoolean(3)),
            prefix(tag).replace("_", "\\_") + "%");
    for (Key key : keys) {
      if (key.identity()) {
        target.execute("ALTER TABLE " + key.table() + " REPLICA IDENTITY DEFAULT");
      }
      target.execute("DROP INDEX IF EXISTS " + key.index());
    }
  }

  private static String prefix(String tag) {
    return "ferry_key_" + tag + "_";
  }

  /** {@code ferry_key_<tag>_<hash of the table's name>}: the same on every attempt, short enough. */
  private static String indexName(LogicalSide target, String tag, Table table) {
    String hash =
        target
            .queryOne("SELECT left(md5(? || '.' || ?), 12)", rs -> rs.getString(1), table.schema(), table.name())
            .orElseThrow();
    return prefix(tag) + hash;
  }
}

package dev.ferry.activities.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Whether a source's lock table can hold what {@code pg_dump} locks at once. It takes a lock on
 * every table it dumps and on every sequence it reads, all in one transaction, and PostgreSQL's
 * lock table holds about {@code max_locks_per_transaction × (max_connections +
 * max_prepared_transactions)} locks shared by every session: a schema-per-tenant source of
 * 10,000 tables (20,000 tables and sequences) overflows the 12,800 of 64 × 200, and the dump
 * fails with {@code out of shared memory} once the run has frozen the source.
 *
 * @param relations tables and sequences outside PostgreSQL's own schemas
 * @param slots the lock table's size
 */
record LockTable(long relations, long slots, int maxLocksPerTransaction) {

  static LockTable read(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace"
                    + "   WHERE k.relkind IN ('r', 'p', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    + "   AND n.nspname NOT LIKE 'pg\\_toast%'),"
                    + " current_setting('max_locks_per_transaction')::int,"
                    + " current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int")) {
      rs.next();
      return new LockTable(rs.getLong(1), (long) rs.getInt(2) * rs.getInt(3), rs.getInt(2));
    }
  }

  /**
   * A warning when the relations take more than half the lock table (the other half for every
   * other session), else {@code null}.
   */
  String warning(String endpoint) {
    if (relations <= slots / 2) {
      return null;
    }
    return endpoint + " has " + relations + " tables and sequences; pg_dump locks every one of them in one transaction, and"
        + " its lock table holds about " + slots + " locks (max_locks_per_transaction " + maxLocksPerTransaction
        + " × (max_connections + max_prepared_transactions)) shared by every session: the snapshot may fail with 'out of"
        + " shared memory' after the freeze; raise max_locks_per_transaction to at least "
        + Math.max(maxLocksPerTransaction + 1, (2 * relations * maxLocksPerTransaction + slots - 1) / slots)
        + " (a restart) before the run; Heroku Postgres fixes it at 64, so there take a plan with more connections,"
        + " whose lock table is larger";
  }
}

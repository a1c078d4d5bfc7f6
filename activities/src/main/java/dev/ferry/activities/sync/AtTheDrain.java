package dev.ferry.activities.sync;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Work a drain does on its own sessions once nothing is pending and no writer is left on the
 * frozen source, before it returns (and, for the logical method, before its stream ends): the
 * sequences, without the two sessions and the step of their own they would cost in the write
 * downtime. Must be idempotent: a drain retried after a crash runs it again.
 */
@FunctionalInterface
interface AtTheDrain {
  AtTheDrain NOTHING = (source, target) -> {};

  void run(Connection source, Connection target) throws SQLException;
}

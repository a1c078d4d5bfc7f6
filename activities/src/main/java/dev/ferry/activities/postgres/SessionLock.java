package dev.ferry.activities.postgres;

import dev.ferry.activities.Pause;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A session advisory lock that one activity attempt at a time holds, until its connection closes:
 * an attempt whose worker died still holds it until the server notices the connection dropped.
 * Taken by polling {@code pg_try_advisory_lock}, not by blocking in {@code pg_advisory_lock}, so
 * that the waiting activity heartbeats (and a cancellation reaches it) between tries.
 *
 * @param key the lock's key arguments as SQL, with one {@code ?} for {@link #name}: {@code
 *     hashtext(?)} (one bigint) or {@code 1179801936, hashtext(?)} (two ints: a class and a name)
 * @param name what the key names (a sync's or a copy's schema)
 */
public record SessionLock(String key, String name) {

  /**
   * Takes the lock on {@code c}, trying every {@code poll} and heartbeating between tries; gives up
   * after {@code tries} tries (at least one), or never when {@code tries} is 0. Returns whether it
   * holds the lock. Tries are counted, not the clock, so a test's pause that returns at once gives
   * up as surely as the worker's sleeping one.
   */
  public boolean take(Connection c, int tries, Duration poll, Pause pause, Runnable heartbeat) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(" + key + ")")) {
      ps.setString(1, name);
      for (int tried = 1; ; tried++) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            return true;
          }
        }
        if (tries > 0 && tried >= tries) {
          return false;
        }
        heartbeat.run();
        pause.pause(poll);
      }
    }
  }

  /** The tries that wait about {@code wait} at {@code poll} between them (each try's query aside). */
  public static int triesFor(Duration wait, Duration poll) {
    return (int) Math.max(1, wait.toMillis() / Math.max(1, poll.toMillis()) + 1);
  }
}

package dev.ferry.activities;

import java.time.Duration;

/**
 * Waits between polls and rounds. Production sleeps; tests hand in one that returns at once (and
 * records what it was asked), so nothing in a test waits on the wall clock.
 */
@FunctionalInterface
public interface Pause {
  Pause SLEEP =
      duration -> {
        if (!duration.isNegative() && !duration.isZero()) {
          Thread.sleep(duration.toMillis());
        }
      };

  void sleep(Duration duration) throws InterruptedException;

  /** {@link #sleep}, turning an interrupt (worker shutdown) into an unchecked failure. */
  default void pause(Duration duration) {
    try {
      sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting", e);
    }
  }
}

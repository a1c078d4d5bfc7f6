package dev.ferry.testing.process;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for a state another process brings about (a step running, a gate open, a session on
 * the database), checking it every {@value #POLL_MILLIS} ms: often enough to act while a step
 * runs, rarely enough not to load the machine the processes share. The bound is a safety net,
 * never the synchronisation: a test waits for states, not for time.
 */
public final class Waiting {
  static final long POLL_MILLIS = 50;

  private Waiting() {}

  public static <T> T until(String what, Supplier<T> probe, Predicate<T> done, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    T last = null;
    while (true) {
      last = probe.get();
      if (done.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up after " + bound.toSeconds() + " s waiting for " + what + "; last seen: " + last);
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }

  /** Until {@code condition} holds. */
  public static void until(String what, java.util.function.BooleanSupplier condition, Duration bound) {
    until(what, condition::getAsBoolean, ok -> ok, bound);
  }
}

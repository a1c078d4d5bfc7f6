package dev.ferry.testing;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Waits for a condition that another thread makes true (a workflow reaching a gate), checking
 * it again and again; fails after a generous bound instead of hanging. The bound is a safety
 * net, never the synchronisation itself.
 */
public final class Eventually {
  private Eventually() {}

  public static <T> T get(String what, Supplier<T> probe, java.util.function.Predicate<T> done) {
    return get(what, probe, done, Duration.ofSeconds(60));
  }

  public static <T> T get(
      String what, Supplier<T> probe, java.util.function.Predicate<T> done, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = probe.get();
      if (done.test(last)) {
        return last;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
    throw new AssertionError("gave up waiting for " + what + "; last seen: " + last);
  }
}

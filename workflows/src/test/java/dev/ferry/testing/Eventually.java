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

  /** A condition whose check may throw (a query): a throw fails the wait at once. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /** Waits until {@code condition} holds. */
  public static void until(String what, Condition condition) {
    get(
        what,
        () -> {
          try {
            return condition.holds();
          } catch (Exception e) {
            throw new IllegalStateException("checking whether " + what + " failed", e);
          }
        },
        holds -> holds);
  }

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

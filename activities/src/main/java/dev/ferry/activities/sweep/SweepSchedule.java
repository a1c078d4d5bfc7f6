package dev.ferry.activities.sweep;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a worker's {@link Sweeper} when the worker starts and then every {@code every} (a day), on
 * one daemon thread of the worker process.
 *
 * <p>A plain timer rather than a Temporal workflow or schedule: dumps are on this worker's own
 * disk, which only this process sees (a schedule's activity would run on whichever worker polls
 * first); the sweep must also run when Temporal is down or forgot its runs (the embedded server),
 * which is when most leftovers appear; and it has nothing to remember between sweeps, so it needs
 * no history. Several workers sweeping the same database at once is harmless: every removal is
 * idempotent, and each decides from the ledger and Temporal alone.
 */
public final class SweepSchedule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SweepSchedule.class);
  public static final Duration DAILY = Duration.ofDays(1);

  private final ScheduledExecutorService timer;

  private SweepSchedule(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /** Sweeps now (in the background: the worker polls meanwhile) and then every {@code every}. */
  public static SweepSchedule start(Sweeper sweeper, Duration every) {
    return start(sweeper::sweep, every);
  }

  /** {@link #start(Sweeper, Duration)} with any sweep (tests). */
  static SweepSchedule start(java.util.function.Supplier<SweepReport> sweeper, Duration every) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "ferry-sweep");
          t.setDaemon(true);
          return t;
        });
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            sweeper.get();
          } catch (RuntimeException e) {
            // A sweep never throws by design; if one does, the next still runs.
            log.warn("sweep failed: {}", e.toString());
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
    log.info("sweeping what ended runs left behind now and every {}", every);
    return new SweepSchedule(timer);
  }

  /** Stops the timer; a sweep under way is interrupted. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}

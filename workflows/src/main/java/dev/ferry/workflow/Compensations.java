package dev.ferry.workflow;

import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Workflow;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;

/**
 * The saga: what undoes each step that changed the world. A step registers its compensation
 * <em>before</em> it runs (a step that dies halfway may have changed something), with an
 * idempotency key; on failure, rejection or cancellation the compensations run newest first.
 * A step the run undid on its own way forward (unfreezing the source) is discharged.
 */
final class Compensations {
  private static final Logger log = Workflow.getLogger(Compensations.class);

  /** How to undo one step. The key is the same for every attempt of that compensation. */
  interface Undo {
    String run(String idempotencyKey);
  }

  private record Entry(String step, String key, Undo undo) {}

  private final Deque<Entry> pending = new ArrayDeque<>();

  /** Registers the compensation of {@code step}; call it before the step runs. */
  void register(String step, Undo undo) {
    pending.push(new Entry(step, Workflow.randomUUID().toString(), undo));
  }

  /** The way forward undid {@code step} itself: nothing left to compensate for it. */
  void discharge(String step) {
    pending.removeIf(e -> e.step().equals(step));
  }

  boolean isEmpty() {
    return pending.isEmpty();
  }

  /** The steps that would be undone, newest first. */
  List<String> steps() {
    return pending.stream().map(Entry::step).toList();
  }

  /**
   * Runs every compensation, newest first. One that fails is noted for a person and the others
   * still run: a stuck compensation must not leave the rest of the world half undone.
   */
  void runAll(RunRecord record, java.util.function.BiConsumer<String, String> undone) {
    List<String> failed = new ArrayList<>();
    while (!pending.isEmpty()) {
      Entry e = pending.pop();
      record.phase("compensating: " + e.step());
      try {
        String detail = e.undo().run(e.key());
        record.compensated(e.step(), now(), "undone: " + detail);
        undone.accept(e.step(), "undone: " + detail);
      } catch (TemporalFailure f) {
        log.error("compensation of {} failed: {}", e.step(), f.getMessage());
        failed.add(e.step());
        undone.accept(e.step(), "could not undo: " + Failures.describe(f));
        record.note(
            "could not undo " + e.step() + ": " + Failures.describe(f) + " (compensation key " + e.key()
                + "); undo it by hand");
      }
    }
    if (!failed.isEmpty()) {
      record.note("compensations that failed: " + String.join(", ", failed));
    }
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}

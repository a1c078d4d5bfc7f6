package dev.ferry.testing.process;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Kills a stack's worker while a step runs and starts a new one, keeping what each kill
 * showed: how the test knew the step was running, when it killed, when the step's activity ran
 * again on the new worker. {@link #assertEveryKillLandedMidStep} then proves from Temporal's
 * history that each step's activity needed another attempt, taken by a worker started after the
 * kill: a kill that came too late (the step had finished) fails the test instead of passing
 * silently.
 */
public final class WorkerKills {
  /**
   * One kill.
   *
   * @param evidence what showed the step running when the worker was killed
   * @param resumedAt when the step's activity was seen running (or done) on the new worker
   */
  public record Kill(
      String step, String activityType, String evidence, FerryProcess killed, FerryProcess replacement, Instant killedAt,
      Instant resumedAt) {
    public Duration toResume() {
      return Duration.between(killedAt, resumedAt);
    }
  }

  private final ProcessStack stack;
  private final List<Kill> kills = new ArrayList<>();
  private final List<String> outcomes = new ArrayList<>();

  public WorkerKills(ProcessStack stack) {
    this.stack = stack;
  }

  /**
   * Waits until {@code seen} shows the step at work, SIGKILLs the worker at once, starts a new
   * worker and waits until the step's activity runs again on it.
   *
   * @param evidence what {@code seen} looks for, for the report
   * @param seen null until the step shows it is running; then what it saw (rows copied so far,
   *     changes pending), which the report keeps
   */
  public Kill killWhile(String runId, String step, String activityType, String evidence, Supplier<String> seen) {
    return killWhile(runId, step, activityType, evidence, seen, () -> {});
  }

  /**
   * {@link #killWhile(String, String, String, String, Supplier)}, doing {@code afterKill} once
   * the worker is dead and before the new one starts (such as releasing a lock the test held to
   * keep the step waiting, so that the retry does not wait for it too).
   */
  public Kill killWhile(
      String runId, String step, String activityType, String evidence, Supplier<String> seen, Runnable afterKill) {
    return killWhile(runId, step, activityType, evidence, seen, afterKill, worker -> {});
  }

  /**
   * {@link #killWhile(String, String, String, String, Supplier, Runnable)}, calling {@code
   * whileResuming} with the new worker once it polls and before waiting for the step to run
   * again there (such as holding an app's lock while the retry waits for it).
   */
  public Kill killWhile(
      String runId,
      String step,
      String activityType,
      String evidence,
      Supplier<String> seen,
      Runnable afterKill,
      java.util.function.Consumer<FerryProcess> whileResuming) {
    String[] saw = new String[1];
    Waiting.until(
        step + " to be under way: " + evidence,
        () -> {
          saw[0] = seen.get();
          return saw[0] != null;
        },
        Duration.ofMinutes(3));
    FerryProcess killed = stack.killWorker();
    afterKill.run();
    FerryProcess replacement = stack.startWorker();
    whileResuming.accept(replacement);
    Instant resumed = awaitRetriedOn(runId, activityType, replacement, killed.killedAt());
    Kill kill = new Kill(step, activityType, evidence + "; seen: " + saw[0], killed, replacement, killed.killedAt(), resumed);
    kills.add(kill);
    return kill;
  }

  /**
   * When the activity was first seen at work again on {@code worker} after {@code since}:
   * started there and heartbeating, or ended by it (a short retry may end before it is seen).
   */
  public Instant awaitRetriedOn(String runId, String activityType, FerryProcess worker, Instant since) {
    RunHistory history = stack.history();
    Waiting.until(
        activityType + " to run again on " + worker,
        () -> {
          if (!worker.isAlive()) {
            throw new AssertionError(worker + " died:\n" + worker.log());
          }
          boolean beating =
              history.pending(runId, activityType)
                  .map(p -> p.runningOn(worker, since) && p.lastHeartbeatAt() != null && !p.lastHeartbeatAt().isBefore(p.lastStartedAt()))
                  .orElse(false);
          return beating || history.ended(runId, activityType).stream().anyMatch(a -> worker.isIdentity(a.identity()));
        },
        Duration.ofMinutes(3));
    return Instant.now();
  }

  /**
   * Every kill's step ran its activity again: an attempt of 2 or more, taken by a worker started
   * after the kill, ended it (completed, or cancelled as the apply loop is at the drain).
   */
  public void assertEveryKillLandedMidStep(String runId) {
    RunHistory history = stack.history();
    for (Kill kill : kills) {
      List<RunHistory.Attempt> ended = history.ended(runId, kill.activityType());
      RunHistory.Attempt last =
          ended.stream()
              .filter(a -> isLaterWorker(a.identity(), kill))
              .reduce((a, b) -> b)
              .orElseThrow(
                  () -> new AssertionError(
                      "the kill during " + kill.step() + " did not land mid-step: no " + kill.activityType()
                          + " ended on a worker started after the kill; history has " + ended));
      if (last.attempt() < 2) {
        throw new AssertionError(
            "the kill during " + kill.step() + " did not land mid-step: " + kill.activityType() + " ended at attempt "
                + last.attempt() + " (" + ended + ")");
      }
      outcomes.add(kill.step() + ": " + kill.activityType() + " ended " + last.outcome() + " at attempt " + last.attempt()
          + " on " + last.identity() + " (before it: " + last.previousFailure() + ")");
    }
  }

  private boolean isLaterWorker(String identity, Kill kill) {
    for (FerryProcess worker : stack.workers()) {
      if (worker.isIdentity(identity) && !worker.startedAt().isBefore(kill.killedAt())) {
        return true;
      }
    }
    return false;
  }

  /** Every kill's worker left no pg_dump or pg_restore running: Ferry's retries ended them. */
  public void assertNoOrphanLeft() {
    for (Kill kill : kills) {
      Waiting.until(
          "the tools " + kill.killed() + " started to end",
          () -> kill.killed().orphans().isEmpty(),
          Duration.ofSeconds(30));
    }
  }

  public List<Kill> kills() {
    return List.copyOf(kills);
  }

  /** The kills as the report's matrix: step, evidence, time to resume, what history showed. */
  public String matrix(String title) {
    StringBuilder s = new StringBuilder("kill matrix: ").append(title).append('\n');
    for (Kill k : kills) {
      s.append(String.format(
          "  %-14s %-18s resumed %5.1f s after the kill; evidence: %s%n",
          k.step(), k.activityType(), k.toResume().toMillis() / 1000.0, k.evidence()));
    }
    outcomes.forEach(o -> s.append("  ").append(o).append('\n'));
    return s.toString();
  }
}

package dev.ferry.workflow;

import dev.ferry.model.RunSearchAttributes;
import dev.ferry.model.RunState;
import dev.ferry.model.StepState;
import dev.ferry.model.StepStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The steps of a run and where each one stands: what the status query reports. Plain state,
 * changed only by workflow code, so it replays exactly.
 */
final class RunRecord {
  private final Map<String, Step> steps = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private RunState state = RunState.RUNNING;
  private String phase = "starting";
  private Instant endedAt;
  private String failure;
  private Consumer<String> phaseListener = phase -> {};

  RunRecord(List<String> plan) {
    plan.forEach(name -> steps.put(name, new Step(name)));
  }

  /**
   * Tells {@code listener} each new phase from now on ({@link RunPhase} publishes it as a search
   * attribute). A gate's step is not told: it begins and turns to {@code awaiting approval: <gate>}
   * at once, and only that is worth a search attribute.
   */
  void onPhaseChange(Consumer<String> listener) {
    this.phaseListener = listener;
  }

  /** Adds a step the plan did not show (the rollback gate, which opens only on trouble). */
  void add(String name) {
    steps.putIfAbsent(name, new Step(name));
  }

  void begin(String name, Instant at) {
    Step step = step(name);
    step.state = StepState.RUNNING;
    step.startedAt = at;
    step.endedAt = null;
    step.detail = null;
    step.attempts++;
    phase = name;
    if (!name.startsWith(Steps.gate(""))) {
      phaseListener.accept(phase);
    }
  }

  void done(String name, Instant at, String detail) {
    end(name, StepState.DONE, at, detail);
  }

  void failed(String name, Instant at, String detail) {
    end(name, StepState.FAILED, at, detail);
  }

  /** Marks the steps still running (a gate, a step being cancelled) as failed, with the reason. */
  void interruptRunning(Instant at, String reason) {
    steps.values().stream()
        .filter(s -> s.state == StepState.RUNNING)
        .forEach(s -> end(s.name, StepState.FAILED, at, reason));
  }

  /** Marks a step whose effect its compensation undid. */
  void compensated(String name, Instant at, String detail) {
    Step step = step(name);
    String before = step.detail;
    end(name, StepState.COMPENSATED, at, detail + (before == null ? "" : " (it had: " + before + ")"));
  }

  void phase(String phase) {
    this.phase = phase;
    phaseListener.accept(phase);
  }

  /** Marks one step as skipped, with the reason. */
  void skip(String name, String reason) {
    Step step = step(name);
    step.state = StepState.SKIPPED;
    step.detail = reason;
  }

  /** Marks every step that has not started as skipped, with the reason. */
  void skipRemaining(String reason) {
    steps.values().stream()
        .filter(s -> s.state == StepState.PENDING)
        .forEach(
            s -> {
              s.state = StepState.SKIPPED;
              s.detail = reason;
            });
  }

  void awaiting(String gate) {
    state = RunState.AWAITING_APPROVAL;
    phase = RunSearchAttributes.awaitingApproval(gate);
    phaseListener.accept(phase);
  }

  void resumed() {
    state = RunState.RUNNING;
  }

  void finish(RunState finalState, Instant at, String failure) {
    state = finalState;
    phase = finalState.name().toLowerCase();
    phaseListener.accept(phase);
    endedAt = at;
    this.failure = failure;
  }

  void note(String note) {
    notes.add(note);
  }

  RunState state() {
    return state;
  }

  String phase() {
    return phase;
  }

  Instant endedAt() {
    return endedAt;
  }

  String failure() {
    return failure;
  }

  List<String> notes() {
    return List.copyOf(notes);
  }

  List<StepStatus> steps() {
    return steps.values().stream().map(Step::view).toList();
  }

  private void end(String name, StepState endState, Instant at, String detail) {
    Step step = step(name);
    step.state = endState;
    step.endedAt = at;
    step.detail = detail;
  }

  private Step step(String name) {
    Step step = steps.get(name);
    if (step == null) {
      throw new IllegalStateException("step " + name + " is not in the plan");
    }
    return step;
  }

  private static final class Step {
    final String name;
    StepState state = StepState.PENDING;
    Instant startedAt;
    Instant endedAt;
    String detail;
    int attempts;

    Step(String name) {
      this.name = name;
    }

    StepStatus view() {
      Long duration =
          startedAt != null && endedAt != null
              ? endedAt.toEpochMilli() - startedAt.toEpochMilli()
              : null;
      return new StepStatus(name, state, startedAt, endedAt, duration, detail, attempts);
    }
  }
}

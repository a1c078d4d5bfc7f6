package dev.ferry.model;

public enum StepState {
  PENDING,
  RUNNING,
  DONE,
  SKIPPED,
  FAILED,
  /** It had run (or started) and its effect was undone by its compensation. */
  COMPENSATED
}

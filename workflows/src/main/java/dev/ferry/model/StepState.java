package dev.ferry.model;

public enum StepState {
  PENDING,
  RUNNING,
  DONE,
  SKIPPED,
  FAILED
}

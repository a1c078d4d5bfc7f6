package dev.ferry.model;

/** Where a run stands. The last four are final. */
public enum RunState {
  RUNNING,
  AWAITING_APPROVAL,
  SUCCEEDED,
  FAILED,
  REJECTED,
  CANCELLED;

  public boolean finished() {
    return this == SUCCEEDED || this == FAILED || this == REJECTED || this == CANCELLED;
  }
}

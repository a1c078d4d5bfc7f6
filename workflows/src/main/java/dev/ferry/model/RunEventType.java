package dev.ferry.model;

/** What happened to a run, as the ledger records it. */
public enum RunEventType {
  /** The API accepted a request to start a run (written by the API, with the authenticated starter). */
  REQUESTED,
  /** The workflow began; {@code actor} is who started it as the workflow's input says. */
  STARTED,
  STEP_STARTED,
  /** A step ended; {@code detail} says how (done, failed, skipped) and what it found. */
  STEP_FINISHED,
  /** A gate began to wait; {@code detail} names who may decide and the deadline. */
  GATE_OPENED,
  /** A gate was decided; {@code actor} decided, {@code detail} is the verdict and comment. */
  DECISION,
  /** A decision was refused (four eyes, not an approver, bad signature…). */
  DECISION_REFUSED,
  /** Something was undone after a failure, rejection or cancellation. */
  COMPENSATION,
  /** Something an operator should read (a lost host, files left behind). */
  NOTE,
  /** Someone asked to cancel the run (written by the API). */
  CANCEL_REQUESTED,
  /** The run ended; {@code state} is how. */
  FINISHED
}

package dev.ferry.model.runbook;

/** Gate names, as they appear in runbooks, the API's URLs and Temporal signal payloads. */
public final class Gates {
  /** Before anything changes: the operator's plan and the preflight report are approved. */
  public static final String START = "start";

  private Gates() {}
}

package dev.ferry.model.runbook;

/** Gate names, as they appear in runbooks, the API's URLs and Temporal signal payloads. */
public final class Gates {
  /** Before anything changes: the operator's plan and the preflight report are approved. */
  public static final String START = "start";
  /** Multi-phase: the copy is in sync; freezing the source and moving traffic may begin. */
  public static final String CUTOVER = "cutover";
  /** The migration is done; Heroku's side may be shut down. */
  public static final String DECOMMISSION = "decommission";
  /**
   * Opens only when something fails, is rejected or cancelled after the target took writes:
   * undoing then loses those writes, so a person decides.
   */
  public static final String ROLLBACK = "rollback";

  private Gates() {}
}

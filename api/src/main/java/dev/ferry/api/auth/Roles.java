package dev.ferry.api.auth;

/** The API's roles. A user may hold several. */
public final class Roles {
  /** Starts and cancels runs. */
  public static final String OPERATOR = "operator";
  /** Decides gates. */
  public static final String APPROVER = "approver";
  /** Reads. Operators and approvers read too. */
  public static final String VIEWER = "viewer";

  private Roles() {}
}

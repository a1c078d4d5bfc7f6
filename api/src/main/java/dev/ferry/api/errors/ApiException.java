package dev.ferry.api.errors;

/** An error the API answers with its own status and message. */
public class ApiException extends RuntimeException {
  public static final int NOT_FOUND = 404;
  public static final int CONFLICT = 409;
  public static final int FORBIDDEN = 403;
  public static final int TOO_LARGE = 413;
  /** JAX-RS 3.1 has no constant for it. */
  public static final int UNPROCESSABLE = 422;
  public static final int UNAVAILABLE = 503;

  private final int status;

  public ApiException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}

package dev.ferry.api.errors;

import dev.ferry.api.representations.ErrorBody;
import java.util.List;

/** An error the API answers with its own status and message. */
public class ApiException extends RuntimeException {
  public static final int BAD_REQUEST = 400;
  public static final int NOT_FOUND = 404;
  public static final int CONFLICT = 409;
  public static final int FORBIDDEN = 403;
  public static final int TOO_LARGE = 413;
  /** JAX-RS 3.1 has no constant for it. */
  public static final int UNPROCESSABLE = 422;
  public static final int UNAVAILABLE = 503;

  private final int status;
  private final List<ErrorBody.FieldProblem> errors;

  public ApiException(int status, String message) {
    this(status, message, List.of());
  }

  /** @param errors every problem, by field */
  public ApiException(int status, String message, List<ErrorBody.FieldProblem> errors) {
    super(message);
    this.status = status;
    this.errors = List.copyOf(errors);
  }

  public List<ErrorBody.FieldProblem> errors() {
    return errors;
  }

  public int status() {
    return status;
  }
}

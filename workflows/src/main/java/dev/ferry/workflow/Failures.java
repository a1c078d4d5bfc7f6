package dev.ferry.workflow;

import dev.ferry.model.Errors;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TimeoutFailure;

/** Reads Temporal's failure chains into what an operator needs: one line and an error type. */
final class Failures {
  private Failures() {}

  /** The innermost application error's message, or what timed out, or that it was cancelled. */
  static String describe(Throwable failure) {
    ApplicationFailure app = rootApplicationFailure(failure);
    if (app != null) {
      return app.getOriginalMessage();
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TimeoutFailure timeout) {
        return "timed out (" + timeout.getTimeoutType().name().replace("TIMEOUT_TYPE_", "") + ")";
      }
      if (t instanceof CanceledFailure) {
        return "cancelled";
      }
    }
    return failure.getMessage();
  }

  /** The innermost application error's type, or {@link Errors#STEP_FAILED}. */
  static String type(Throwable failure) {
    ApplicationFailure app = rootApplicationFailure(failure);
    return app != null && app.getType() != null ? app.getType() : Errors.STEP_FAILED;
  }

  static boolean isScheduleToStartTimeout(Throwable failure) {
    return failure instanceof ActivityFailure
        && failure.getCause() instanceof TimeoutFailure timeout
        && timeout.getTimeoutType()
            == io.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START;
  }

  private static ApplicationFailure rootApplicationFailure(Throwable failure) {
    ApplicationFailure found = null;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ApplicationFailure app) {
        found = app;
      }
    }
    return found;
  }
}

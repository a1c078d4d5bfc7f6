package dev.ferry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.temporal.failure.ApplicationFailure;

/** The {@link ApplicationFailure} an activity stub call ended with. */
public final class ActivityFailures {
  private ActivityFailures() {}

  public static ApplicationFailure failureOf(Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).as("the activity should have failed").isNotNull();
    Throwable cause = thrown;
    while (cause != null && !(cause instanceof ApplicationFailure)) {
      cause = cause.getCause();
    }
    assertThat(cause).as("an ApplicationFailure in " + thrown).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) cause;
  }

  /** Asserts the call failed with this type, final or retryable, and returns the failure. */
  public static ApplicationFailure failure(Runnable call, String type, boolean nonRetryable) {
    ApplicationFailure f = failureOf(call);
    assertThat(f.getType()).as(f.getOriginalMessage()).isEqualTo(type);
    assertThat(f.isNonRetryable()).as("non-retryable: " + f.getOriginalMessage()).isEqualTo(nonRetryable);
    return f;
  }
}

package dev.ferry.activities.aws;

import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.util.Set;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Turns what AWS says into failures an operator can act on: missing or refused credentials are
 * final, throttling and outages are retried. Service-specific codes (a missing zone, a refused
 * change batch) are mapped by each activity before it falls back on this.
 */
final class AwsFailures {
  private static final Set<String> ACCESS_DENIED =
      Set.of(
          "AccessDenied",
          "AccessDeniedException",
          "UnrecognizedClientException",
          "InvalidClientTokenId",
          "InvalidSignatureException",
          "SignatureDoesNotMatch",
          "ExpiredToken",
          "ExpiredTokenException",
          "IncompleteSignature",
          "MissingAuthenticationToken",
          "AuthFailure",
          "KMSAccessDeniedException",
          "KMSDisabledException",
          "KMSNotFoundException",
          "KMSInvalidStateException");

  private AwsFailures() {}

  /** Makes a client, turning a worker without region or credentials into a final failure. */
  static <T> T client(String service, Supplier<T> clients) {
    try {
      return clients.get();
    } catch (RuntimeException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "this worker cannot make a " + service + " client (AWS_REGION and credentials?): " + e.getMessage(),
          Errors.AWS_ACCESS_DENIED);
    }
  }

  /**
   * @param what what was attempted, for the message ({@code "Route 53 ListResourceRecordSets on
   *     Z123"})
   * @param withMessage whether AWS's own message may be repeated (false where it could echo a
   *     secret value, as SSM's validation messages do)
   */
  static ApplicationFailure map(String what, SdkException e, boolean withMessage) {
    if (e instanceof AwsServiceException service) {
      String code = code(service);
      String detail = code + (withMessage ? ": " + message(service) : "");
      if (service.isThrottlingException() || service.statusCode() >= 500 || "PriorRequestNotComplete".equals(code)) {
        return ApplicationFailure.newFailure(what + " failed (" + detail + "); will retry", Errors.AWS_UNAVAILABLE);
      }
      if (ACCESS_DENIED.contains(code) || service.statusCode() == 403) {
        return ApplicationFailure.newNonRetryableFailure(
            what + " was refused (" + detail + "): the worker's AWS credentials may not do this", Errors.AWS_ACCESS_DENIED);
      }
      return ApplicationFailure.newFailure(what + " failed (" + detail + ")", Errors.STEP_FAILED);
    }
    String message = String.valueOf(e.getMessage());
    if (e instanceof SdkClientException
        && (message.contains("Unable to load credentials") || message.contains("Unable to load region"))) {
      return ApplicationFailure.newNonRetryableFailure(
          what + ": this worker has no AWS credentials or region: " + message, Errors.AWS_ACCESS_DENIED);
    }
    return ApplicationFailure.newFailure(what + " failed: " + message + "; will retry", Errors.AWS_UNAVAILABLE);
  }

  static String code(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null
        ? "HTTP " + e.statusCode()
        : e.awsErrorDetails().errorCode();
  }

  static String message(AwsServiceException e) {
    return e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null
        ? "no message"
        : e.awsErrorDetails().errorMessage();
  }
}

package dev.ferry.activities.secrets;

import dev.ferry.model.Errors;
import dev.ferry.model.runbook.SecretRef;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.GetParameterRequest;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;
import software.amazon.awssdk.services.ssm.model.SsmException;

/**
 * Turns a runbook's secret reference into the secret, inside an activity and nowhere else.
 *
 * <ul>
 *   <li>{@code env:NAME}: the worker's environment variable;
 *   <li>{@code ssm:/path}: an SSM Parameter Store parameter, decrypted (SecureString).
 * </ul>
 *
 * Only references the deployment allows are resolved ({@link SecretPolicy}, {@code
 * FERRY_SECRET_REFS}); any other, and any naming one of Ferry's own settings, is refused ({@code
 * SecretRefused}, final) before the environment or SSM is read, so before any connection is tried.
 *
 * <p>Errors name the field and the reference, never the value. A reference that does not resolve
 * is final ({@code SecretUnresolved}); an SSM outage or throttling stays retryable.
 */
public class SecretResolver {
  private final Map<String, String> environment;
  private final Supplier<SsmClient> ssm;
  private final SecretPolicy policy;

  /**
   * @param environment the worker's environment ({@code System.getenv()} in production); its
   *     {@code FERRY_SECRET_REFS} is the allow-list
   * @param ssm creates the SSM client on first use, so a worker that never reads {@code ssm:}
   *     needs no AWS credentials
   * @throws IllegalArgumentException when {@code FERRY_SECRET_REFS} is malformed
   */
  public SecretResolver(Map<String, String> environment, Supplier<SsmClient> ssm) {
    this(environment, ssm, SecretPolicy.fromEnvironment(environment));
  }

  /** @param policy the references this resolver may resolve */
  public SecretResolver(Map<String, String> environment, Supplier<SsmClient> ssm, SecretPolicy policy) {
    this.environment = Map.copyOf(environment);
    this.ssm = memoize(ssm);
    this.policy = policy;
  }

  public SecretPolicy policy() {
    return policy;
  }

  /**
   * @param field the runbook field the reference comes from, for error messages
   */
  public String resolve(String field, String reference) {
    SecretRef ref;
    try {
      ref = SecretRef.parse(reference);
    } catch (IllegalArgumentException e) {
      // Ferry's own settings are refused by the parser already; the message names the variable only.
      boolean own = reference != null && reference.startsWith("env:") && SecretRef.ownSetting(reference.substring(4));
      throw ApplicationFailure.newNonRetryableFailure(
          field + ": " + e.getMessage(), own ? Errors.SECRET_REFUSED : Errors.SECRET_UNRESOLVED);
    }
    if (!policy.allows(ref)) {
      throw ApplicationFailure.newNonRetryableFailure(
          field + ": " + ref + " is not among the references this worker may resolve (" + SecretPolicy.VARIABLE
              + "); add it, or a glob that covers it, to the worker's " + SecretPolicy.VARIABLE,
          Errors.SECRET_REFUSED);
    }
    return switch (ref.scheme()) {
      case ENV -> fromEnvironment(field, ref);
      case SSM -> fromParameterStore(field, ref);
    };
  }

  private String fromEnvironment(String field, SecretRef ref) {
    String value = environment.get(ref.name());
    if (value == null || value.isBlank()) {
      throw unresolved(
          field + ": " + ref + " is not set in the worker's environment");
    }
    return value;
  }

  private String fromParameterStore(String field, SecretRef ref) {
    SsmClient client;
    try {
      client = ssm.get();
    } catch (RuntimeException e) {
      throw unresolved(field + ": " + ref + " needs SSM, and this worker cannot make an SSM client (AWS region and credentials?): " + e.getMessage());
    }
    try {
      return client
          .getParameter(GetParameterRequest.builder().name(ref.name()).withDecryption(true).build())
          .parameter()
          .value();
    } catch (ParameterNotFoundException e) {
      throw unresolved(field + ": " + ref + " does not exist in SSM Parameter Store");
    } catch (SsmException e) {
      String code = e.awsErrorDetails() == null ? "HTTP " + e.statusCode() : e.awsErrorDetails().errorCode();
      if (e.isThrottlingException() || e.statusCode() >= 500) {
        throw ApplicationFailure.newFailure(
            field + ": reading " + ref + " from SSM failed (" + code + "); will retry",
            Errors.SECRET_STORE_UNAVAILABLE);
      }
      // Access denied, a KMS key the worker may not use, bad credentials: a person must fix
      // IAM or the parameter; retrying cannot.
      throw unresolved(field + ": " + ref + " cannot be read from SSM: " + code);
    } catch (SdkClientException e) {
      String message = String.valueOf(e.getMessage());
      if (message.contains("Unable to load credentials") || message.contains("Unable to load region")) {
        throw unresolved(field + ": " + ref + " needs AWS credentials and a region on this worker: " + message);
      }
      throw ApplicationFailure.newFailure(
          field + ": reading " + ref + " from SSM failed: " + e.getMessage(),
          Errors.SECRET_STORE_UNAVAILABLE);
    }
  }

  private static ApplicationFailure unresolved(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, Errors.SECRET_UNRESOLVED);
  }

  private static <T> Supplier<T> memoize(Supplier<T> supplier) {
    return new Supplier<>() {
      private T value;

      @Override
      public synchronized T get() {
        if (value == null) {
          value = supplier.get();
        }
        return value;
      }
    };
  }
}

package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.temporal.TemporalClientSecurity;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;

/**
 * Where the Temporal frontend is, how to authenticate to it, and which namespace and task queue
 * Ferry uses. The TLS and API key settings mean what the {@code TEMPORAL_TLS*} and {@code
 * TEMPORAL_API_KEY} variables mean to {@link TemporalClientSecurity}; blank is unset.
 */
public class TemporalSettings {
  /** {@code host:port} of the Temporal frontend (gRPC). */
  @NotBlank
  @Pattern(regexp = "[^\\s:]+:\\d{1,5}", message = "must be host:port")
  @JsonProperty
  private String address = "127.0.0.1:7233";

  @NotBlank @JsonProperty private String namespace = "default";

  /** The queue Ferry's workers poll for workflows and activities. */
  @NotBlank @JsonProperty private String taskQueue = "ferry";

  /** {@code true}, {@code false} or blank (TLS when any other TLS setting or the API key is set). */
  @JsonProperty private String tls = "";

  @JsonProperty private String tlsClientCertPath = "";
  @JsonProperty private String tlsClientKeyPath = "";
  @JsonProperty private String tlsServerCaCertPath = "";
  @JsonProperty private String tlsServerName = "";

  /** Temporal Cloud API key: a secret, so take it from the environment, never write it here. */
  @JsonProperty private String apiKey = "";

  /**
   * Base64 of 32 random bytes: payloads sent to Temporal are encrypted with it (AES-256-GCM).
   * The workers must have the same key ({@code FERRY_PAYLOAD_KEY}). A secret: take it from the
   * environment.
   */
  @JsonProperty private String payloadKey = "";

  /** Older payload keys, comma-separated, kept to read runs written before a key change. */
  @JsonProperty private String payloadPreviousKeys = "";

  /** Refuse to start without a payload key (on outside the embedded dev stack). */
  @JsonProperty private boolean requirePayloadKey = true;

  /**
   * The payload codec, or null when no key is set and none is required.
   *
   * @throws IllegalArgumentException when a key is required but missing, or malformed
   */
  public PayloadEncryption payloadEncryption() {
    if (payloadKey == null || payloadKey.isBlank()) {
      if (requirePayloadKey) {
        throw new IllegalArgumentException(
            "temporal.payloadKey (FERRY_PAYLOAD_KEY) is not set: Temporal's history would hold every payload in"
                + " plain text. Set it to base64 of 32 random bytes (openssl rand -base64 32), the same for the API"
                + " and the workers, or set FERRY_PAYLOAD_KEY_REQUIRED=false to run without");
      }
      return null;
    }
    return PayloadEncryption.of(payloadKey, payloadPreviousKeys);
  }

  /**
   * @throws IllegalArgumentException naming every TLS or API key setting that is wrong
   */
  public TemporalClientSecurity clientSecurity() {
    return TemporalClientSecurity.of(tls, tlsClientCertPath, tlsClientKeyPath, tlsServerCaCertPath, tlsServerName, apiKey);
  }

  public String getAddress() {
    return address;
  }

  public String getNamespace() {
    return namespace;
  }

  public String getTaskQueue() {
    return taskQueue;
  }
}

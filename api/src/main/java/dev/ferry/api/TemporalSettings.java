package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;

/** Where the Temporal frontend is and which namespace and task queue Ferry uses. */
public class TemporalSettings {
  /** {@code host:port} of the Temporal frontend (gRPC). */
  @NotBlank
  @Pattern(regexp = "[^\\s:]+:\\d{1,5}", message = "must be host:port")
  @JsonProperty
  private String address = "127.0.0.1:7233";

  @NotBlank @JsonProperty private String namespace = "default";

  /** The queue Ferry's workers poll for workflows and activities. */
  @NotBlank @JsonProperty private String taskQueue = "ferry";

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

package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/** Where rehearsal schedules are kept (see {@code ScheduleBackends}). */
public class SchedulesSettings {
  /**
   * {@code auto} (default): Temporal's own Schedules when the server has the Schedule API, else
   * one workflow per schedule; {@code native} or {@code workflow} to force one.
   */
  @NotNull
  @Pattern(regexp = "auto|native|workflow", message = "must be auto, native or workflow")
  @JsonProperty
  private String backend = "auto";

  public String getBackend() {
    return backend;
  }
}

package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The remote codec the Temporal UI calls ({@code /codec}, see {@code CodecResource}). */
public class CodecSettings {
  /**
   * The origins ({@code scheme://host[:port]}, comma-separated) of the Temporal UIs whose pages
   * may call the codec from a browser; blank for none. Open the UI by exactly this name: the
   * sign-in cookie is only sent between names of the same site (127.0.0.1 and localhost are not).
   */
  @NotNull
  @Pattern(
      regexp = "\\s*(https?://[^/\\s,]+(\\s*,\\s*https?://[^/\\s,]+)*)?\\s*",
      message = "must be origins such as http://127.0.0.1:8233, comma-separated, without a path")
  @JsonProperty
  private String allowedOrigins = "http://127.0.0.1:8233";

  /** How long the Temporal UI's sign-in lasts. */
  @NotNull
  @MinDuration(value = 1, unit = TimeUnit.MINUTES)
  @JsonProperty
  private Duration sessionTtl = Duration.hours(8);

  /** Mark the sign-in cookie Secure even on plain HTTP: behind a proxy that terminates TLS. */
  @JsonProperty private boolean secureCookie = false;

  public List<String> origins() {
    return Arrays.stream(allowedOrigins.split(",")).map(String::trim).filter(o -> !o.isEmpty()).toList();
  }

  public java.time.Duration sessionTtl() {
    return java.time.Duration.ofMillis(sessionTtl.toMilliseconds());
  }

  public boolean isSecureCookie() {
    return secureCookie;
  }
}

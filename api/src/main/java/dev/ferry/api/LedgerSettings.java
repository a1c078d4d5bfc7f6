package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.NotBlank;

/**
 * Where the run ledger is: a {@code postgres://user:password@host:port/database} URL, a {@code
 * jdbc:postgresql://} URL, or {@code env:NAME} naming the environment variable that holds one.
 * The API applies the ledger's schema migrations when it starts.
 */
public class LedgerSettings {
  @NotBlank @JsonProperty private String url = "env:FERRY_LEDGER_URL";

  public String getUrl() {
    return url;
  }
}

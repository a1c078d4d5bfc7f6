package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/**
 * The API's configuration file (see {@code api/config/dev.yml}); {@code ${VAR:-default}} in it
 * is replaced from the environment.
 */
public class FerryConfiguration extends Configuration {
  @Valid @NotNull @JsonProperty private TemporalSettings temporal = new TemporalSettings();

  @Valid @NotNull @JsonProperty private AuthSettings auth = new AuthSettings();

  @Valid @NotNull @JsonProperty private LedgerSettings ledger = new LedgerSettings();

  @Valid @NotNull @JsonProperty private ApprovalSettings approvals = new ApprovalSettings();

  @Valid @NotNull @JsonProperty private RunbookSettings runbooks = new RunbookSettings();

  @Valid @NotNull @JsonProperty private CodecSettings codec = new CodecSettings();

  public TemporalSettings getTemporal() {
    return temporal;
  }

  public void setTemporal(TemporalSettings temporal) {
    this.temporal = temporal;
  }

  public AuthSettings getAuth() {
    return auth;
  }

  public LedgerSettings getLedger() {
    return ledger;
  }

  public ApprovalSettings getApprovals() {
    return approvals;
  }

  public RunbookSettings getRunbooks() {
    return runbooks;
  }

  public CodecSettings getCodec() {
    return codec;
  }
}

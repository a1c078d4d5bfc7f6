package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How much the API checks of a runbook beyond its fields. The API never resolves a secret:
 * {@code ssm:} references and the worker's environment are the worker's business, and a
 * reference that does not resolve fails the run's preflight at once, naming the field. When
 * the API and the worker share one environment (the embedded dev stack), {@code
 * checkEnvReferences} lets the API refuse an unset {@code env:} reference before anything starts.
 */
public class RunbookSettings {
  @JsonProperty private boolean checkEnvReferences = false;

  public boolean isCheckEnvReferences() {
    return checkEnvReferences;
  }
}

package dev.ferry.model.runbook;

/** One problem in a runbook, named by the path of the field it concerns ({@code gates.start.timeout}). */
public record FieldError(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}

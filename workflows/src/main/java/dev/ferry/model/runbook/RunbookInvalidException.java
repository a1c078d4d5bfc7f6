package dev.ferry.model.runbook;

import java.util.List;
import java.util.stream.Collectors;

/** A runbook Ferry refuses, with every problem found, by field. */
public class RunbookInvalidException extends RuntimeException {
  private final boolean unreadable;
  private final List<FieldError> errors;

  private RunbookInvalidException(String message, boolean unreadable, List<FieldError> errors) {
    super(message);
    this.unreadable = unreadable;
    this.errors = List.copyOf(errors);
  }

  /** The text is not YAML or JSON at all. */
  static RunbookInvalidException unreadable(String reason) {
    return new RunbookInvalidException(
        "runbook is not valid YAML or JSON: " + reason,
        true,
        List.of(new FieldError("runbook", reason)));
  }

  /** The text parses but fields are missing or wrong. */
  static RunbookInvalidException invalid(List<FieldError> errors) {
    String summary = errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
    return new RunbookInvalidException(
        "runbook has " + errors.size() + " problem" + (errors.size() == 1 ? "" : "s") + ": " + summary,
        false,
        errors);
  }

  /** True when the text could not be read as YAML or JSON; false when fields are wrong. */
  public boolean unreadable() {
    return unreadable;
  }

  public List<FieldError> errors() {
    return errors;
  }
}

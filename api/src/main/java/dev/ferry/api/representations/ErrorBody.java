package dev.ferry.api.representations;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Every error the API returns: the HTTP status, a sentence, and for a refused runbook every
 * problem by field.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ErrorBody(int code, String message, List<FieldProblem> errors) {
  public record FieldProblem(String field, String message) {}

  public static ErrorBody of(int code, String message) {
    return new ErrorBody(code, message, List.of());
  }
}

package dev.ferry.api.resources;

import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.ErrorBody;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookInvalidException;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.runbook.SecretRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a runbook from a request body: size, YAML or JSON, every field; and, when the API shares
 * the worker's environment, whether its {@code env:} references are set.
 */
public final class RunbookReader {
  /** A runbook is a page of YAML; anything near this size is a mistake or an attack. */
  static final int MAX_RUNBOOK_CHARS = 256 * 1024;

  private final boolean checkEnvReferences;
  private final Map<String, String> environment;

  /**
   * @param checkEnvReferences refuse {@code env:} references that {@code environment} does not set
   */
  public RunbookReader(boolean checkEnvReferences, Map<String, String> environment) {
    this.checkEnvReferences = checkEnvReferences;
    this.environment = environment;
  }

  /** Reads every field; checks nothing beyond them. */
  public static RunbookReader fieldsOnly() {
    return new RunbookReader(false, Map.of());
  }

  /**
   * @throws RunbookInvalidException naming every problem (400 unreadable, 422 wrong fields)
   * @throws ApiException 413 for a body over 256 KiB
   */
  public Runbook read(String body) {
    if (body != null && body.length() > MAX_RUNBOOK_CHARS) {
      throw new ApiException(ApiException.TOO_LARGE, "a runbook may be at most 256 KiB");
    }
    Runbook runbook = RunbookParser.parse(body);
    if (checkEnvReferences) {
      List<ErrorBody.FieldProblem> errors = new ArrayList<>();
      check(errors, "source.databaseUrl", runbook.source().databaseUrl());
      check(errors, "target.databaseUrl", runbook.target().databaseUrl());
      if (!errors.isEmpty()) {
        throw new ApiException(ApiException.UNPROCESSABLE, "runbook is invalid: " + errors.size() + " problem(s)", errors);
      }
    }
    return runbook;
  }

  private void check(List<ErrorBody.FieldProblem> errors, String field, String reference) {
    SecretRef ref = SecretRef.parse(reference);
    if (ref.scheme() == SecretRef.Scheme.ENV) {
      String value = environment.get(ref.name());
      if (value == null || value.isBlank()) {
        errors.add(new ErrorBody.FieldProblem(field, reference + " is not set in the environment the API shares with the worker"));
      }
    }
  }
}

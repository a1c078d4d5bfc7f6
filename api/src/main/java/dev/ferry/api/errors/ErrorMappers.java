package dev.ferry.api.errors;

import java.util.List;

/** Every exception mapper of the API, so the application and resource tests register the same. */
public final class ErrorMappers {
  private ErrorMappers() {}

  public static List<Object> all() {
    return List.of(
        new ApiExceptionMapper(),
        new RunbookInvalidMapper(),
        new LedgerUnavailableMapper(),
        new TemporalUnavailableMapper.Grpc(),
        new TemporalUnavailableMapper.Sdk());
  }
}

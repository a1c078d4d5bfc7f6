package dev.ferry.api.errors;

import dev.ferry.api.representations.ErrorBody;
import dev.ferry.model.runbook.RunbookInvalidException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;

/** 400 for text that is not YAML or JSON at all; 422, every problem by field, for wrong fields. */
public class RunbookInvalidMapper implements ExceptionMapper<RunbookInvalidException> {
  @Override
  public Response toResponse(RunbookInvalidException e) {
    int status = e.unreadable() ? 400 : 422;
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(
            new ErrorBody(
                status,
                e.getMessage(),
                e.errors().stream().map(f -> new ErrorBody.FieldProblem(f.field(), f.message())).toList()))
        .build();
  }
}

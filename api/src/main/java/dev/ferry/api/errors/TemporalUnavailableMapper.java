package dev.ferry.api.errors;

import dev.ferry.api.representations.ErrorBody;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.client.WorkflowServiceException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporal did not answer: 503, so clients retry instead of taking it for a bad request. Two
 * mappers, one for the raw gRPC error and one for the SDK's wrapper of it.
 */
public final class TemporalUnavailableMapper {
  private static final Logger log = LoggerFactory.getLogger(TemporalUnavailableMapper.class);

  private TemporalUnavailableMapper() {}

  public static final class Grpc implements ExceptionMapper<StatusRuntimeException> {
    @Override
    public Response toResponse(StatusRuntimeException e) {
      return unavailable(e.getStatus());
    }
  }

  public static final class Sdk implements ExceptionMapper<WorkflowServiceException> {
    @Override
    public Response toResponse(WorkflowServiceException e) {
      Status status = e.getCause() instanceof StatusRuntimeException s ? s.getStatus() : Status.UNAVAILABLE;
      return unavailable(status);
    }
  }

  private static Response unavailable(Status status) {
    log.warn("Temporal call failed: {}", status);
    return Response.status(503)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(503, "Temporal is not reachable (" + status.getCode() + "); try again"))
        .build();
  }
}

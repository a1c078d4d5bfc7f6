package dev.ferry.api.errors;

import dev.ferry.api.representations.ErrorBody;
import io.grpc.StatusRuntimeException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Temporal did not answer: 503, so clients retry instead of taking it for a bad request. */
public class TemporalUnavailableMapper implements ExceptionMapper<StatusRuntimeException> {
  private static final Logger log = LoggerFactory.getLogger(TemporalUnavailableMapper.class);

  @Override
  public Response toResponse(StatusRuntimeException e) {
    log.warn("Temporal call failed: {}", e.getStatus());
    return Response.status(503)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(503, "Temporal is not reachable (" + e.getStatus().getCode() + "); try again"))
        .build();
  }
}

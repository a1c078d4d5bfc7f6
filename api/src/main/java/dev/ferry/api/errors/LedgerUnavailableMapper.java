package dev.ferry.api.errors;

import dev.ferry.api.representations.ErrorBody;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The ledger database did not answer: 503, so clients retry; the details go to the log only. */
public class LedgerUnavailableMapper implements ExceptionMapper<SQLException> {
  private static final Logger log = LoggerFactory.getLogger(LedgerUnavailableMapper.class);

  @Override
  public Response toResponse(SQLException e) {
    log.warn("ledger call failed: {} (SQLState {})", e.getMessage(), e.getSQLState());
    return Response.status(503)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(503, "the run ledger is not reachable; try again"))
        .build();
  }
}

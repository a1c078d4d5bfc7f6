package dev.ferry.api.resources;

import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.Roles;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.DecisionRequest;
import dev.ferry.api.representations.RunCreated;
import dev.ferry.api.representations.RunView;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.temporal.RunGateway.Execution;
import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;
import io.dropwizard.auth.Auth;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs: start one from a runbook, read its status, decide its gates. */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
public class RunsResource {
  private static final Logger log = LoggerFactory.getLogger(RunsResource.class);
  /** A runbook is a page of YAML; anything near this size is a mistake or an attack. */
  static final int MAX_RUNBOOK_CHARS = 256 * 1024;

  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");
  private static final Pattern GATE = Pattern.compile("[a-z][a-z0-9-]{0,39}");

  private final RunGateway runs;

  public RunsResource(RunGateway runs) {
    this.runs = runs;
  }

  /**
   * Starts a migration from a runbook (YAML or JSON). A runbook that is wrong is refused with
   * every problem by field, and nothing starts.
   */
  @POST
  @RolesAllowed(Roles.OPERATOR)
  @Consumes({
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    MediaType.TEXT_PLAIN,
    MediaType.APPLICATION_JSON
  })
  public Response start(@Auth FerryUser user, String body) {
    if (body != null && body.length() > MAX_RUNBOOK_CHARS) {
      throw new ApiException(ApiException.TOO_LARGE, "a runbook may be at most 256 KiB");
    }
    Runbook runbook = RunbookParser.parse(body);
    String runId = runs.start(runbook, user.getName());
    log.info("{} started {} for app {}", user.getName(), runId, runbook.app());
    String statusUrl = "/api/runs/" + runId;
    return Response.created(UriBuilder.fromPath(statusUrl).build())
        .entity(new RunCreated(runId, runbook.app(), statusUrl))
        .build();
  }

  /** A run's status: state, phase, steps with times, pending gate, progress, results. */
  @GET
  @Path("{runId}")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public RunView status(@PathParam("runId") String runId) {
    checkRunId(runId);
    Execution execution = existing(runId);
    RunStatus status;
    try {
      status = runs.status(runId);
    } catch (RunGateway.NoWorkerException | WorkflowException e) {
      throw new ApiException(
          ApiException.UNAVAILABLE,
          "run " + runId + " exists (" + temporalStatus(execution) + ") but no worker answered its status query; is a Ferry worker running?");
    }
    return RunView.from(status, temporalStatus(execution), execution.progress());
  }

  @POST
  @Path("{runId}/gates/{gate}/approve")
  @RolesAllowed(Roles.APPROVER)
  @Consumes(MediaType.APPLICATION_JSON)
  public RunView.GateDecision approve(
      @Auth FerryUser user,
      @PathParam("runId") String runId,
      @PathParam("gate") String gate,
      @Valid DecisionRequest body) {
    return decide(user, runId, gate, Verdict.APPROVE, body);
  }

  /** Rejects a gate; the comment is required. The run rolls back what it did and ends. */
  @POST
  @Path("{runId}/gates/{gate}/reject")
  @RolesAllowed(Roles.APPROVER)
  @Consumes(MediaType.APPLICATION_JSON)
  public RunView.GateDecision reject(
      @Auth FerryUser user,
      @PathParam("runId") String runId,
      @PathParam("gate") String gate,
      @Valid DecisionRequest body) {
    return decide(user, runId, gate, Verdict.REJECT, body);
  }

  private RunView.GateDecision decide(
      FerryUser user, String runId, String gate, Verdict verdict, DecisionRequest body) {
    checkRunId(runId);
    if (!GATE.matcher(gate).matches()) {
      throw new ApiException(ApiException.NOT_FOUND, "no such gate");
    }
    String comment = body == null ? null : body.comment();
    if (verdict == Verdict.REJECT && (comment == null || comment.isBlank())) {
      throw new ApiException(ApiException.UNPROCESSABLE, "a rejection must say why: send {\"comment\": \"...\"}");
    }
    Execution execution = existing(runId);
    if (!execution.open()) {
      throw new ApiException(ApiException.CONFLICT, "run " + runId + " has ended (" + temporalStatus(execution) + ")");
    }
    // The approver is who authenticated, never a field of the request.
    GateDecision decision =
        new GateDecision(gate, verdict, user.getName(), comment, body == null ? null : body.evidenceDigest());
    try {
      Decision recorded = runs.decide(runId, decision);
      log.info("{} {} gate {} of {}", user.getName(), verdict, gate, runId);
      return RunView.GateDecision.from(recorded);
    } catch (WorkflowUpdateException e) {
      GateDecisionRefused refused =
          GateDecisionRefused.from(e)
              .orElseThrow(() -> new ApiException(ApiException.CONFLICT, "the run did not take the decision: " + e.getMessage()));
      throw new ApiException(statusFor(refused.reason()), refused.explanation());
    } catch (WorkflowNotFoundException e) {
      throw new ApiException(ApiException.CONFLICT, "run " + runId + " has ended");
    } catch (RunGateway.NoWorkerException e) {
      throw new ApiException(
          ApiException.UNAVAILABLE,
          e.getMessage() + " to take the decision; it may still take effect when a worker comes back: check the run's status");
    }
  }

  private static int statusFor(GateDecisionRefused.Reason reason) {
    return switch (reason) {
      case SELF_APPROVAL, NOT_AN_APPROVER -> ApiException.FORBIDDEN;
      case NOT_PENDING, ALREADY_DECIDED, STALE_EVIDENCE -> ApiException.CONFLICT;
      case INVALID, COMMENT_REQUIRED -> ApiException.UNPROCESSABLE;
    };
  }

  private Execution existing(String runId) {
    return runs.describe(runId).orElseThrow(() -> new ApiException(ApiException.NOT_FOUND, "no run " + runId));
  }

  private static void checkRunId(String runId) {
    if (!RUN_ID.matcher(runId).matches()) {
      throw new ApiException(ApiException.NOT_FOUND, "no such run");
    }
  }

  private static String temporalStatus(Execution execution) {
    return execution.status().name().replace("WORKFLOW_EXECUTION_STATUS_", "");
  }
}

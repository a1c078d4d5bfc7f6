package dev.ferry.api.resources;

import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.Roles;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.CancelAccepted;
import dev.ferry.api.representations.CancelRequest;
import dev.ferry.api.representations.DecisionRequest;
import dev.ferry.api.representations.ErrorBody;
import dev.ferry.api.representations.RunCreated;
import dev.ferry.api.representations.RunEventView;
import dev.ferry.api.representations.RunList;
import dev.ferry.api.representations.RunSummary;
import dev.ferry.api.representations.RunView;
import dev.ferry.api.representations.VerificationDetailView;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.temporal.RunGateway.Execution;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.Decision;
import dev.ferry.model.GateDecision;
import dev.ferry.model.GateDecisionRefused;
import dev.ferry.model.RunEventType;
import dev.ferry.model.RunKind;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.Runbook;
import io.dropwizard.auth.Auth;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs: start one from a runbook (idempotent on the client's key), list them from the ledger,
 * read one's status and audit events, decide its gates, cancel it.
 */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
public class RunsResource {
  private static final Logger log = LoggerFactory.getLogger(RunsResource.class);
  /** The header a client repeats on a retry to get the same run back instead of a second one. */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  public static final String REPLAYED = "Idempotent-Replayed";
  static final int MAX_PAGE = 200;
  static final int MAX_OFFSET = 100_000;
  static final int MAX_DETAIL_PAGE = 1000;

  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");
  private static final Pattern GATE = Pattern.compile("[a-z][a-z0-9-]{0,39}");
  private static final Pattern APP = Pattern.compile("[a-z][a-z0-9-]{1,29}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");
  /** A phase as the status names it: {@code snapshot}, {@code awaiting approval: cutover}. */
  private static final Pattern PHASE = Pattern.compile("[a-z][a-z0-9 :_-]{0,99}");
  private static final Set<String> STATES =
      Arrays.stream(RunState.values()).map(Enum::name).collect(Collectors.toCollection(java.util.TreeSet::new));

  static {
    STATES.add("STARTING");
  }

  private final RunGateway runs;
  private final RunLedger ledger;
  private final RunbookReader reader;
  private final ApprovalKeys approvalKeys;
  private final Clock clock;

  public RunsResource(RunGateway runs, RunLedger ledger, RunbookReader reader, ApprovalKeys approvalKeys, Clock clock) {
    this.runs = runs;
    this.ledger = ledger;
    this.reader = reader;
    this.approvalKeys = approvalKeys;
    this.clock = clock;
  }

  /**
   * Starts a migration from a runbook (YAML or JSON). A runbook that is wrong is refused with
   * every problem by field, and nothing starts or is written. With an {@code Idempotency-Key},
   * a retry of the same request returns the same run (200, {@code Idempotent-Replayed: true}).
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
  public Response start(
      @Auth FerryUser user,
      @HeaderParam(IDEMPOTENCY_KEY) String idempotencyKey,
      @QueryParam("kind") String kindParam,
      String body)
      throws SQLException {
    if (idempotencyKey != null && !KEY.matcher(idempotencyKey).matches()) {
      throw new ApiException(ApiException.BAD_REQUEST, "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    RunKind kind = kind(kindParam);
    if (kind == RunKind.REHEARSAL) {
      throw new ApiException(ApiException.UNPROCESSABLE, "rehearsals are started with POST /api/rehearsals (same runbook body), not /api/runs");
    }
    Runbook runbook = reader.read(body);
    String digest = sha256(body);
    RunLedger.Claim claim =
        ledger.claim(RunGateway.newRunId(kind, runbook.app()), kind, runbook, user.getName(), idempotencyKey, digest);
    RunLedger.Run run = claim.run();
    if (!claim.created()) {
      if (!digest.equals(run.requestSha256())) {
        throw new ApiException(
            ApiException.UNPROCESSABLE,
            "Idempotency-Key " + idempotencyKey + " was already used for another request (run " + run.runId() + "); use a new key for a new run");
      }
      if ("STARTING".equals(run.state())) {
        // The first attempt wrote the ledger but may not have reached Temporal.
        runs.start(run.runId(), runbook, user.getName());
        ledger.started(run.runId());
      }
      return Response.ok(created(run.runId(), runbook.app())).header(REPLAYED, "true").build();
    }
    try {
      runs.start(run.runId(), runbook, user.getName());
    } catch (RuntimeException e) {
      ledger.forget(run.runId()); // nothing started: leave nothing written
      throw e;
    }
    ledger.started(run.runId());
    log.info("{} started {} for app {}", user.getName(), run.runId(), runbook.app());
    RunCreated entity = created(run.runId(), runbook.app());
    return Response.created(UriBuilder.fromPath(entity.statusUrl()).build()).entity(entity).build();
  }

  private static RunCreated created(String runId, String app) {
    return new RunCreated(runId, app, "/api/runs/" + runId);
  }

  /**
   * Runs from the ledger, newest first, filtered by state, app and kind, a page at a time. With
   * {@code phase}, only the runs Temporal's visibility shows in that phase now ({@code awaiting
   * approval: cutover}, {@code snapshot}): the ledger stays what is listed, visibility says which.
   */
  @GET
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public RunList list(
      @QueryParam("state") String state,
      @QueryParam("app") String app,
      @QueryParam("kind") String kind,
      @QueryParam("phase") String phase,
      @QueryParam("limit") String limitParam,
      @QueryParam("offset") String offsetParam)
      throws SQLException {
    List<ErrorBody.FieldProblem> problems = new ArrayList<>();
    if (state != null && !STATES.contains(state)) {
      problems.add(new ErrorBody.FieldProblem("state", "must be one of " + String.join(", ", STATES)));
    }
    if (app != null && !APP.matcher(app).matches()) {
      problems.add(new ErrorBody.FieldProblem("app", "must be a Heroku app name"));
    }
    if (kind != null && !kind.equals("migration") && !kind.equals("rehearsal")) {
      problems.add(new ErrorBody.FieldProblem("kind", "must be migration or rehearsal"));
    }
    if (phase != null && !PHASE.matcher(phase).matches()) {
      problems.add(
          new ErrorBody.FieldProblem("phase", "must be a phase as a run's status names it, such as snapshot or awaiting approval: cutover"));
    }
    int limit = number(problems, "limit", limitParam, 50, 1, MAX_PAGE);
    int offset = number(problems, "offset", offsetParam, 0, 0, MAX_OFFSET);
    if (!problems.isEmpty()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad query: " + problems.size() + " problem(s)", problems);
    }
    Set<String> inPhase = phase == null ? null : runs.runIdsInPhase(phase, app, kind);
    List<RunLedger.Run> page = ledger.list(new RunLedger.Filter(state, app, kind, inPhase), limit + 1, offset);
    String next = null;
    if (page.size() > limit) {
      page = page.subList(0, limit);
      UriBuilder b = UriBuilder.fromPath("/api/runs").queryParam("limit", limit).queryParam("offset", offset + limit);
      if (state != null) {
        b.queryParam("state", state);
      }
      if (app != null) {
        b.queryParam("app", app);
      }
      if (kind != null) {
        b.queryParam("kind", kind);
      }
      if (phase != null) {
        b.queryParam("phase", phase);
      }
      next = b.build().toString();
    }
    return new RunList(page.stream().map(RunSummary::from).toList(), limit, offset, next);
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
    if (status.state() != null) {
      try {
        ledger.observe(runId, status.state(), status.phase(), status.endedAt());
      } catch (SQLException e) {
        log.warn("could not note {}'s state in the ledger: {}", runId, e.getMessage());
      }
    }
    return RunView.from(status, temporalStatus(execution), execution.progress());
  }

  /** A run's audit trail from the ledger: requested, started, steps, gates, decisions, end. */
  @GET
  @Path("{runId}/events")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public RunEventView.Page events(@PathParam("runId") String runId) throws SQLException {
    checkRunId(runId);
    if (ledger.find(runId).isEmpty()) {
      throw new ApiException(ApiException.NOT_FOUND, "no run " + runId + " in the ledger");
    }
    return new RunEventView.Page(runId, ledger.events(runId).stream().map(RunEventView::from).toList());
  }

  private static final Pattern OBJECT_NAME = Pattern.compile("[^\\p{Cntrl}]{1,300}");

  /**
   * Every table, sequence or schema difference the run's latest verification compared, a page
   * at a time from the ledger (the status names at most 50 of each): {@code kind} table
   * (default), sequence or schema; {@code differing=true} for those that differ only; {@code
   * after} the last name of the previous page; {@code limit} up to 1000 (default 200).
   */
  @GET
  @Path("{runId}/verification")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public VerificationDetailView verification(
      @PathParam("runId") String runId,
      @QueryParam("kind") String kindParam,
      @QueryParam("differing") String differingParam,
      @QueryParam("after") String after,
      @QueryParam("limit") String limitParam)
      throws SQLException {
    checkRunId(runId);
    List<ErrorBody.FieldProblem> problems = new ArrayList<>();
    String kind = kindParam == null ? "table" : kindParam;
    if (!Set.of("table", "sequence", "schema").contains(kind)) {
      problems.add(new ErrorBody.FieldProblem("kind", "must be table, sequence or schema"));
    }
    if (differingParam != null && !differingParam.equals("true") && !differingParam.equals("false")) {
      problems.add(new ErrorBody.FieldProblem("differing", "must be true or false"));
    }
    if (after != null && !OBJECT_NAME.matcher(after).matches()) {
      problems.add(new ErrorBody.FieldProblem("after", "must be the name of an object of the previous page (1 to 300 characters)"));
    }
    int limit = number(problems, "limit", limitParam, 200, 1, MAX_DETAIL_PAGE);
    if (!problems.isEmpty()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad query: " + problems.size() + " problem(s)", problems);
    }
    boolean differing = "true".equals(differingParam);
    RunLedger.VerificationPage page =
        ledger.verification(runId, kind, differing, after, limit + 1)
            .orElseThrow(() -> new ApiException(ApiException.NOT_FOUND, "no verification of run " + runId + " in the ledger"));
    List<RunLedger.VerificationObject> objects = page.objects();
    String next = null;
    if (objects.size() > limit) {
      objects = objects.subList(0, limit);
      // Built by hand: a table's name may hold braces, which UriBuilder reads as a template.
      next = "/api/runs/" + runId + "/verification?kind=" + kind + "&limit=" + limit + (differing ? "&differing=true" : "")
          + "&after=" + java.net.URLEncoder.encode(objects.get(limit - 1).name(), StandardCharsets.UTF_8).replace("+", "%20");
    }
    return new VerificationDetailView(
        runId, page.activityId(), page.startedAt(), page.finishedAt(), page.mismatches(), kind, page.total(), page.differing(),
        objects, next);
  }

  /** Asks a run to cancel: it rolls back what it changed and ends CANCELLED. */
  @POST
  @Path("{runId}/cancel")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public Response cancel(@Auth FerryUser user, @PathParam("runId") String runId, @Valid CancelRequest body)
      throws SQLException {
    checkRunId(runId);
    Execution execution = existing(runId);
    if (!execution.open()) {
      throw new ApiException(ApiException.CONFLICT, "run " + runId + " has ended (" + temporalStatus(execution) + ")");
    }
    try {
      runs.cancel(runId);
    } catch (WorkflowNotFoundException e) {
      throw new ApiException(ApiException.CONFLICT, "run " + runId + " has ended");
    }
    String reason = body == null || body.reason() == null || body.reason().isBlank() ? null : body.reason().trim();
    ledger.record(runId, RunEventType.CANCEL_REQUESTED, null, user.getName(), reason == null ? "cancel requested" : reason);
    log.info("{} asked {} to cancel", user.getName(), runId);
    return Response.accepted(new CancelAccepted(runId, user.getName(), "/api/runs/" + runId)).build();
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
    // The approver is who authenticated, never a field of the request; signed when keys are set.
    String digest = body == null ? null : body.evidenceDigest();
    GateDecision decision =
        approvalKeys.sign(runId, new GateDecision(gate, verdict, user.getName(), comment, digest), digest, clock.instant());
    try {
      Decision recorded = runs.decide(runId, decision);
      log.info("{} {} gate {} of {}", user.getName(), verdict, gate, runId);
      return RunView.GateDecision.from(recorded);
    } catch (WorkflowUpdateException e) {
      GateDecisionRefused refused =
          GateDecisionRefused.from(e)
              .orElseThrow(() -> new ApiException(ApiException.CONFLICT, "the run did not take the decision: " + e.getMessage()));
      audit(runId, RunEventType.DECISION_REFUSED, "gate:" + gate, user.getName(), verdict + " refused: " + refused.explanation());
      throw new ApiException(statusFor(refused.reason()), refused.explanation());
    } catch (WorkflowNotFoundException e) {
      throw new ApiException(ApiException.CONFLICT, "run " + runId + " has ended");
    } catch (RunGateway.NoWorkerException e) {
      throw new ApiException(
          ApiException.UNAVAILABLE,
          e.getMessage() + " to take the decision; it may still take effect when a worker comes back: check the run's status");
    }
  }

  private void audit(String runId, RunEventType type, String step, String actor, String detail) {
    try {
      ledger.record(runId, type, step, actor, detail);
    } catch (SQLException e) {
      log.warn("could not record {} of {} in the ledger: {}", type, runId, e.getMessage());
    }
  }

  private static int statusFor(GateDecisionRefused.Reason reason) {
    return switch (reason) {
      case SELF_APPROVAL, NOT_AN_APPROVER, UNSIGNED -> ApiException.FORBIDDEN;
      case NOT_PENDING, ALREADY_DECIDED, STALE_EVIDENCE, OVER_BUDGET -> ApiException.CONFLICT;
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

  private static RunKind kind(String kind) {
    if (kind == null || kind.equals("migration")) {
      return RunKind.MIGRATION;
    }
    if (kind.equals("rehearsal")) {
      return RunKind.REHEARSAL;
    }
    throw new ApiException(ApiException.BAD_REQUEST, "kind must be migration or rehearsal");
  }

  private static int number(List<ErrorBody.FieldProblem> problems, String field, String text, int fallback, int min, int max) {
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(text.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    problems.add(new ErrorBody.FieldProblem(field, "must be a whole number from " + min + " to " + max));
    return fallback;
  }

  private static String sha256(String body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest((body == null ? "" : body).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static String temporalStatus(Execution execution) {
    return execution.status().name().replace("WORKFLOW_EXECUTION_STATUS_", "");
  }
}

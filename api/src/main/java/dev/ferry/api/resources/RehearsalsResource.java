package dev.ferry.api.resources;

import dev.ferry.activities.rehearsal.RehearsalReportStore;
import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.Roles;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.ErrorBody;
import dev.ferry.api.representations.RehearsalCreated;
import dev.ferry.api.representations.RehearsalList;
import dev.ferry.api.representations.RehearsalView;
import dev.ferry.api.temporal.RehearsalStarter;
import dev.ferry.model.RunKind;
import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalTrend;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.api.temporal.RunGateway;
import io.dropwizard.auth.Auth;
import jakarta.annotation.security.RolesAllowed;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rehearsals: start one now from a runbook (operators), list the reports with their trend and
 * read one (anyone signed in). A running rehearsal is a run like any other: its status, events
 * and cancel are under {@code /api/runs/{id}}.
 */
@Path("/api/rehearsals")
@Produces(MediaType.APPLICATION_JSON)
public class RehearsalsResource {
  private static final Logger log = LoggerFactory.getLogger(RehearsalsResource.class);
  static final int DEFAULT_LIMIT = 20;
  static final int MAX_LIMIT = 100;

  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");
  private static final Pattern APP = Pattern.compile("[a-z][a-z0-9-]{1,29}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

  private final RehearsalStarter starter;
  private final RunLedger ledger;
  private final RehearsalReportStore reports;
  private final RunbookReader reader;

  public RehearsalsResource(RehearsalStarter starter, RunLedger ledger, RehearsalReportStore reports, RunbookReader reader) {
    this.starter = starter;
    this.ledger = ledger;
    this.reports = reports;
    this.reader = reader;
  }

  /**
   * Starts a rehearsal of the runbook's app now. A runbook that is wrong is refused with every
   * problem by field and nothing starts. The rehearsal itself skips (and says so in its report)
   * when a migration or another rehearsal of the app is under way.
   *
   * @param freshParam {@code true} (default) or {@code false} to reuse the newest snapshot (none
   *     is kept today: the rehearsal notes it and takes a fresh one)
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
      @HeaderParam(RunsResource.IDEMPOTENCY_KEY) String idempotencyKey,
      @QueryParam("fresh") String freshParam,
      String body)
      throws SQLException {
    List<ErrorBody.FieldProblem> problems = new ArrayList<>();
    if (idempotencyKey != null && !KEY.matcher(idempotencyKey).matches()) {
      problems.add(new ErrorBody.FieldProblem(RunsResource.IDEMPOTENCY_KEY, "must be 1 to 255 visible ASCII characters"));
    }
    if (freshParam != null && !freshParam.equals("true") && !freshParam.equals("false")) {
      problems.add(new ErrorBody.FieldProblem("fresh", "must be true or false"));
    }
    if (!problems.isEmpty()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad request: " + problems.size() + " problem(s)", problems);
    }
    boolean fresh = !"false".equals(freshParam);
    Runbook runbook = reader.read(body);
    String digest = sha256((fresh ? "fresh\n" : "reuse\n") + body);
    RunLedger.Claim claim =
        ledger.claim(RunGateway.newRunId(RunKind.REHEARSAL, runbook.app()), RunKind.REHEARSAL, runbook, user.getName(), idempotencyKey, digest);
    RunLedger.Run run = claim.run();
    if (!claim.created()) {
      if (!digest.equals(run.requestSha256()) || !RunKind.REHEARSAL.label().equals(run.kind())) {
        throw new ApiException(
            ApiException.UNPROCESSABLE,
            "Idempotency-Key " + idempotencyKey + " was already used for another request (run " + run.runId() + "); use a new key");
      }
      if ("STARTING".equals(run.state())) {
        starter.start(run.runId(), runbook, user.getName(), fresh);
        ledger.started(run.runId());
      }
      return Response.ok(created(run.runId(), runbook.app())).header(RunsResource.REPLAYED, "true").build();
    }
    try {
      starter.start(run.runId(), runbook, user.getName(), fresh);
    } catch (RuntimeException e) {
      ledger.forget(run.runId()); // nothing started: leave nothing written
      throw e;
    }
    ledger.started(run.runId());
    log.info("{} started rehearsal {} for app {}", user.getName(), run.runId(), runbook.app());
    RehearsalCreated entity = created(run.runId(), runbook.app());
    return Response.created(UriBuilder.fromPath(entity.reportUrl()).build()).entity(entity).build();
  }

  private static RehearsalCreated created(String runId, String app) {
    return new RehearsalCreated(runId, app, "/api/runs/" + runId, "/api/rehearsals/" + runId);
  }

  /** The latest reports, newest first, of one app or of all, with their trend. */
  @GET
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public RehearsalList list(@QueryParam("app") String app, @QueryParam("limit") String limitParam) throws SQLException {
    List<ErrorBody.FieldProblem> problems = new ArrayList<>();
    if (app != null && !APP.matcher(app).matches()) {
      problems.add(new ErrorBody.FieldProblem("app", "must be a Heroku app name"));
    }
    int limit = DEFAULT_LIMIT;
    if (limitParam != null) {
      try {
        limit = Integer.parseInt(limitParam.trim());
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        problems.add(new ErrorBody.FieldProblem("limit", "must be a whole number from 1 to " + MAX_LIMIT));
      }
    }
    if (!problems.isEmpty()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad query: " + problems.size() + " problem(s)", problems);
    }
    List<RehearsalReport> recent = reports.recent(app, limit);
    return new RehearsalList(
        app, limit, RehearsalList.Trend.from(RehearsalTrend.of(recent)), recent.stream().map(RehearsalView::from).toList());
  }

  /** One rehearsal's report; 404 while it runs (its status is at {@code /api/runs/{id}}). */
  @GET
  @Path("{rehearsalId}")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public RehearsalView report(@PathParam("rehearsalId") String rehearsalId) throws SQLException {
    if (!RUN_ID.matcher(rehearsalId).matches()) {
      throw new ApiException(ApiException.NOT_FOUND, "no such rehearsal");
    }
    return reports
        .find(rehearsalId)
        .map(RehearsalView::from)
        .orElseThrow(
            () -> new ApiException(
                ApiException.NOT_FOUND,
                "no report for " + rehearsalId + " (a rehearsal still running has none yet: see /api/runs/" + rehearsalId + ")"));
  }

  private static String sha256(String body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

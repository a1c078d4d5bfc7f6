package dev.ferry.api.resources;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.Roles;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.ErrorBody;
import dev.ferry.api.representations.ScheduleNote;
import dev.ferry.api.representations.ScheduleRequest;
import dev.ferry.api.representations.ScheduleView;
import dev.ferry.api.schedules.RehearsalSchedules;
import dev.ferry.api.schedules.ScheduleBackends;
import dev.ferry.api.schedules.RehearsalSchedules.ScheduleGoneException;
import dev.ferry.api.schedules.RehearsalSchedules.ScheduleUnavailableException;
import dev.ferry.model.runbook.FieldError;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookInvalidException;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.model.schedule.FireRecord;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import dev.ferry.model.schedule.ScheduleStatus;
import dev.ferry.model.schedule.ScheduleTiming;
import io.dropwizard.auth.Auth;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rehearsal schedules: create one for a runbook (cron in a time zone, or an interval), list
 * them, read one with its recent fires (started, or skipped and why), pause, resume, trigger
 * now, delete. Operators manage; anyone with a role reads. Kept in Temporal by {@link
 * RehearsalSchedules}; listed from the ledger ({@link ScheduleRegistry}).
 */
@Path("/api/schedules")
@Produces(MediaType.APPLICATION_JSON)
public class SchedulesResource {
  private static final Logger log = LoggerFactory.getLogger(SchedulesResource.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern SCHEDULE_ID = Pattern.compile("schedule-[a-z][a-z0-9-]{1,29}-[0-9a-f]{8}");
  private static final Pattern APP = Pattern.compile("[a-z][a-z0-9-]{1,29}");

  private final RehearsalSchedules schedules;
  private final ScheduleRegistry registry;
  private final RunbookReader reader;
  private final Clock clock;

  public SchedulesResource(RehearsalSchedules schedules, ScheduleRegistry registry, RunbookReader reader, Clock clock) {
    this.schedules = schedules;
    this.registry = registry;
    this.reader = reader;
    this.clock = clock;
  }

  /**
   * Creates a schedule. Every problem (the runbook's, by {@code runbook.<field>}, and {@code
   * cron}, {@code interval}, {@code timezone}) comes back at once as 422; nothing is created.
   */
  @POST
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public Response create(@Auth FerryUser user, ScheduleRequest body) throws SQLException {
    if (body == null) {
      throw new ApiException(
          ApiException.UNPROCESSABLE,
          "send {\"runbook\": ..., \"cron\": \"0 2 * * *\", \"timezone\": \"Europe/Berlin\"} or an interval instead of cron",
          List.of(new ErrorBody.FieldProblem("runbook", "is required")));
    }
    List<ErrorBody.FieldProblem> problems = new ArrayList<>();
    Runbook runbook = runbook(body.runbook(), problems);
    Duration interval = null;
    boolean intervalReadable = true;
    if (body.interval() != null && !body.interval().isBlank()) {
      try {
        interval = RunbookParser.parseDuration(body.interval());
      } catch (RuntimeException e) {
        intervalReadable = false;
        problems.add(new ErrorBody.FieldProblem("interval", "must be a duration such as 30m, 6h or 1d"));
      }
    }
    String cron = body.cron() == null || body.cron().isBlank() ? null : body.cron().trim();
    if (cron != null && cron.length() > 200) {
      problems.add(new ErrorBody.FieldProblem("cron", "is too long for a five-field cron expression"));
      cron = null;
    }
    String timezone = body.timezone() == null ? null : body.timezone().trim();
    if (timezone != null && timezone.length() > 64) {
      problems.add(new ErrorBody.FieldProblem("timezone", "must be an IANA time zone such as UTC or Europe/Berlin"));
      timezone = "UTC";
    }
    ScheduleTiming timing = new ScheduleTiming(cron, interval, timezone);
    for (FieldError f : timing.problems()) {
      boolean alreadySaid = problems.stream().anyMatch(p -> p.field().equals(f.field()));
      boolean intervalGiven = !intervalReadable && f.message().startsWith("give exactly one");
      if (!alreadySaid && !intervalGiven) {
        problems.add(new ErrorBody.FieldProblem(f.field(), f.message()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ApiException(ApiException.UNPROCESSABLE, "schedule is invalid: " + problems.size() + " problem(s)", problems);
    }

    byte[] suffix = new byte[4];
    RANDOM.nextBytes(suffix);
    String id = "schedule-" + runbook.app() + "-" + HexFormat.of().formatHex(suffix);
    ScheduleDefinition definition =
        new ScheduleDefinition(id, runbook, timing, body.freshSnapshot() == null || body.freshSnapshot(), user.getName(), clock.instant());
    String backend = temporal(schedules::backend);
    registry.claim(definition, backend);
    try {
      temporal(() -> {
        schedules.create(definition);
        return null;
      });
    } catch (RuntimeException e) {
      registry.forget(id); // nothing kept in Temporal: leave nothing written
      throw e;
    }
    registry.activate(id);
    log.info("{} created {} for app {}: {}", user.getName(), id, runbook.app(), timing.describe());
    ScheduleView view = view(registry.find(id).orElseThrow());
    return Response.created(UriBuilder.fromPath(view.url()).build()).entity(view).build();
  }

  /** Schedules not deleted, newest first, each with its state from Temporal. */
  @GET
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public ScheduleView.Page list(@QueryParam("app") String app) throws SQLException {
    if (app != null && !APP.matcher(app).matches()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad query", List.of(new ErrorBody.FieldProblem("app", "must be a Heroku app name")));
    }
    List<ScheduleView> views = new ArrayList<>();
    String unanswered = null;
    for (ScheduleRegistry.Entry e : registry.list(app)) {
      if (unanswered != null && !"DELETED".equals(e.state())) {
        // One wait for a worker that is not there is enough: the rest would wait as long.
        views.add(ScheduleView.of(e, null, ScheduleView.UNKNOWN, unanswered));
        continue;
      }
      ScheduleView v = view(e);
      if (ScheduleView.UNKNOWN.equals(v.state()) && v.problem() != null && v.problem().contains("no Ferry worker answered")) {
        unanswered = v.problem();
      }
      views.add(v);
    }
    return new ScheduleView.Page(views, safeBackend());
  }

  @GET
  @Path("{scheduleId}")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public ScheduleView describe(@PathParam("scheduleId") String scheduleId) throws SQLException {
    return view(entry(scheduleId));
  }

  /** Stops firing until resumed; idempotent. */
  @POST
  @Path("{scheduleId}/pause")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public ScheduleView pause(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId, @Valid ScheduleNote body)
      throws SQLException {
    ScheduleRegistry.Entry e = live(scheduleId);
    ScheduleStatus s = temporal(() -> schedules.pause(scheduleId, command(user, body)));
    registry.paused(scheduleId, true);
    log.info("{} paused {}", user.getName(), scheduleId);
    return ScheduleView.of(e, s, null, null);
  }

  /** Fires again from the next fire time on. */
  @POST
  @Path("{scheduleId}/resume")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public ScheduleView resume(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId, @Valid ScheduleNote body)
      throws SQLException {
    ScheduleRegistry.Entry e = live(scheduleId);
    ScheduleStatus s = temporal(() -> schedules.resume(scheduleId, command(user, body)));
    registry.paused(scheduleId, false);
    log.info("{} resumed {}", user.getName(), scheduleId);
    return ScheduleView.of(e, s, null, null);
  }

  /**
   * Fires now, under the overlap rule: the answer says whether a rehearsal started (its id) or
   * the fire was skipped and why.
   */
  @POST
  @Path("{scheduleId}/trigger")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public ScheduleView.Triggered trigger(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId, @Valid ScheduleNote body)
      throws SQLException {
    live(scheduleId);
    FireRecord fire = temporal(() -> schedules.trigger(scheduleId, command(user, body)));
    log.info("{} triggered {}: {}", user.getName(), scheduleId, fire.result());
    return new ScheduleView.Triggered(scheduleId, ScheduleView.Fire.from(fire));
  }

  /** Ends the schedule; a rehearsal it started goes on. */
  @DELETE
  @Path("{scheduleId}")
  @RolesAllowed(Roles.OPERATOR)
  public ScheduleView delete(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId) throws SQLException {
    live(scheduleId);
    try {
      temporal(() -> {
        schedules.delete(scheduleId, new ScheduleCommand(user.getName(), null));
        return null;
      });
    } catch (ApiException e) {
      if (e.status() != ApiException.CONFLICT) {
        throw e;
      }
      // Temporal has it no more (or was deleting it already): the ledger catches up.
    }
    registry.deleted(scheduleId, user.getName());
    log.info("{} deleted {}", user.getName(), scheduleId);
    return view(registry.find(scheduleId).orElseThrow());
  }

  private Runbook runbook(JsonNode node, List<ErrorBody.FieldProblem> problems) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      problems.add(new ErrorBody.FieldProblem("runbook", "is required: the runbook as an object or as YAML text"));
      return null;
    }
    if (!node.isTextual() && !node.isObject()) {
      problems.add(new ErrorBody.FieldProblem("runbook", "must be an object or YAML text"));
      return null;
    }
    try {
      return reader.read(node.isTextual() ? node.asText() : node.toString());
    } catch (RunbookInvalidException e) {
      for (FieldError f : e.errors()) {
        problems.add(new ErrorBody.FieldProblem(f.field().equals("runbook") ? "runbook" : "runbook." + f.field(), f.message()));
      }
      return null;
    } catch (ApiException e) {
      if (e.errors().isEmpty()) {
        problems.add(new ErrorBody.FieldProblem("runbook", e.getMessage()));
      }
      e.errors().forEach(p -> problems.add(new ErrorBody.FieldProblem("runbook." + p.field(), p.message())));
      return null;
    }
  }

  private static ScheduleCommand command(FerryUser user, ScheduleNote body) {
    return new ScheduleCommand(user.getName(), body == null || body.note() == null || body.note().isBlank() ? null : body.note().trim());
  }

  private ScheduleRegistry.Entry entry(String scheduleId) throws SQLException {
    if (!SCHEDULE_ID.matcher(scheduleId).matches()) {
      throw new ApiException(ApiException.NOT_FOUND, "no such schedule");
    }
    return registry.find(scheduleId).filter(e -> !"CREATING".equals(e.state()))
        .orElseThrow(() -> new ApiException(ApiException.NOT_FOUND, "no schedule " + scheduleId));
  }

  /** A schedule that is not deleted. */
  private ScheduleRegistry.Entry live(String scheduleId) throws SQLException {
    ScheduleRegistry.Entry e = entry(scheduleId);
    if ("DELETED".equals(e.state())) {
      throw new ApiException(ApiException.CONFLICT, "schedule " + scheduleId + " was deleted by " + e.deletedBy() + " at " + e.deletedAt());
    }
    return e;
  }

  /** The ledger's row with what Temporal says now; a schedule Temporal cannot describe says why. */
  private ScheduleView view(ScheduleRegistry.Entry e) {
    if ("DELETED".equals(e.state())) {
      return ScheduleView.of(e, null, ScheduleStatus.DELETED, null);
    }
    String backend = safeBackend();
    if (backend.equals(ScheduleBackends.AUTO)) {
      return ScheduleView.of(e, null, ScheduleView.UNKNOWN, "Temporal does not answer; try again");
    }
    if (!e.backend().equals(backend)) {
      return ScheduleView.of(e, null, ScheduleView.UNKNOWN, "kept by the " + e.backend() + " backend; this API uses " + backend);
    }
    try {
      Optional<ScheduleStatus> s = schedules.describe(e.scheduleId());
      return s.map(status -> ScheduleView.of(e, status, null, null))
          .orElseGet(
              () -> ScheduleView.of(e, null, ScheduleView.MISSING, "Temporal does not know this schedule (an embedded server forgets everything when it stops); delete it and create it again"));
    } catch (RuntimeException ex) {
      String why = ex instanceof RehearsalSchedules.ScheduleUnavailableException ? ex.getMessage() : "Temporal did not answer: " + ex.getMessage();
      return ScheduleView.of(e, null, ScheduleView.UNKNOWN, why);
    }
  }

  private String safeBackend() {
    try {
      return schedules.backend();
    } catch (RuntimeException e) {
      return ScheduleBackends.AUTO;
    }
  }

  /** A call to Temporal, its refusals in the API's terms. */
  private static <T> T temporal(Supplier<T> call) {
    try {
      return call.get();
    } catch (ScheduleGoneException e) {
      throw new ApiException(ApiException.CONFLICT, e.getMessage());
    } catch (ScheduleUnavailableException e) {
      throw new ApiException(ApiException.UNAVAILABLE, e.getMessage());
    }
  }
}

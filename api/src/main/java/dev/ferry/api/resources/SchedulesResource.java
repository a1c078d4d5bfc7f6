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
import dev.ferry.api.schedules.FireRecord;
import dev.ferry.api.schedules.RehearsalSchedules;
import dev.ferry.api.schedules.ScheduleCommand;
import dev.ferry.api.schedules.ScheduleDefinition;
import dev.ferry.api.schedules.ScheduleTiming;
import dev.ferry.api.schedules.TemporalSchedules.ScheduleGoneException;
import dev.ferry.api.schedules.TemporalSchedules.ScheduleRefusedException;
import dev.ferry.api.schedules.TemporalSchedules.ScheduleUnavailableException;
import dev.ferry.model.runbook.FieldError;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookInvalidException;
import dev.ferry.model.runbook.RunbookParser;
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
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rehearsal schedules: create one for a runbook (cron in a time zone, or an interval), list
 * them, read one with its recent fires (started, or skipped and why), pause, resume, trigger
 * now, delete. Operators manage; anyone with a role reads. Each is a Temporal schedule, listed
 * and audited by the ledger ({@link RehearsalSchedules}).
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
  private final Duration minInterval;

  public SchedulesResource(RehearsalSchedules schedules, RunbookReader reader, Clock clock) {
    this(schedules, reader, clock, ScheduleTiming.MIN_INTERVAL);
  }

  /** @param minInterval the shortest interval accepted (tests fire every second) */
  public SchedulesResource(RehearsalSchedules schedules, RunbookReader reader, Clock clock, Duration minInterval) {
    this.schedules = schedules;
    this.registry = schedules.registry();
    this.reader = reader;
    this.clock = clock;
    this.minInterval = minInterval;
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
    for (FieldError f : timing.problems(minInterval)) {
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
    ScheduleView view;
    try {
      view = schedules.create(definition);
    } catch (ScheduleRefusedException e) {
      String field = timing.interval() != null ? "interval" : "cron";
      throw new ApiException(ApiException.UNPROCESSABLE, "schedule is invalid: 1 problem(s)", List.of(new ErrorBody.FieldProblem(field, e.getMessage())));
    } catch (RuntimeException e) {
      throw inApiTerms(e);
    }
    log.info("{} created {} for app {}: {}", user.getName(), id, runbook.app(), timing.describe());
    return Response.created(UriBuilder.fromPath(view.url()).build()).entity(view).build();
  }

  /** Schedules not deleted, newest first, each with its state from Temporal. */
  @GET
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public ScheduleView.Page list(@QueryParam("app") String app) throws SQLException {
    if (app != null && !APP.matcher(app).matches()) {
      throw new ApiException(ApiException.BAD_REQUEST, "bad query", List.of(new ErrorBody.FieldProblem("app", "must be a Heroku app name")));
    }
    return new ScheduleView.Page(schedules.list(app));
  }

  @GET
  @Path("{scheduleId}")
  @RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.APPROVER})
  public ScheduleView describe(@PathParam("scheduleId") String scheduleId) throws SQLException {
    return schedules.view(entry(scheduleId));
  }

  /** Stops firing until resumed; idempotent. */
  @POST
  @Path("{scheduleId}/pause")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public ScheduleView pause(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId, @Valid ScheduleNote body)
      throws SQLException {
    ScheduleView view = temporal(() -> schedules.pause(live(scheduleId), command(user, body)));
    log.info("{} paused {}", user.getName(), scheduleId);
    return view;
  }

  /** Fires again from the next fire time on. */
  @POST
  @Path("{scheduleId}/resume")
  @RolesAllowed(Roles.OPERATOR)
  @Consumes(MediaType.APPLICATION_JSON)
  public ScheduleView resume(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId, @Valid ScheduleNote body)
      throws SQLException {
    ScheduleView view = temporal(() -> schedules.resume(live(scheduleId), command(user, body)));
    log.info("{} resumed {}", user.getName(), scheduleId);
    return view;
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
    FireRecord fire = temporal(() -> schedules.trigger(live(scheduleId), command(user, body)));
    log.info("{} triggered {}: {}", user.getName(), scheduleId, fire.result());
    return new ScheduleView.Triggered(scheduleId, ScheduleView.Fire.from(fire));
  }

  /** Ends the schedule; a rehearsal it started goes on. */
  @DELETE
  @Path("{scheduleId}")
  @RolesAllowed(Roles.OPERATOR)
  public ScheduleView delete(@Auth FerryUser user, @PathParam("scheduleId") String scheduleId) throws SQLException {
    ScheduleView view = temporal(() -> schedules.delete(live(scheduleId), new ScheduleCommand(user.getName(), null)));
    log.info("{} deleted {}", user.getName(), scheduleId);
    return view;
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

  /** A call that reaches Temporal. */
  @FunctionalInterface
  private interface TemporalCall<T> {
    T call() throws SQLException;
  }

  /** A call to Temporal, its refusals in the API's terms. */
  private static <T> T temporal(TemporalCall<T> call) throws SQLException {
    try {
      return call.call();
    } catch (RuntimeException e) {
      throw inApiTerms(e);
    }
  }

  private static RuntimeException inApiTerms(RuntimeException e) {
    if (e instanceof ScheduleGoneException) {
      return new ApiException(ApiException.CONFLICT, e.getMessage());
    }
    if (e instanceof ScheduleUnavailableException) {
      return new ApiException(ApiException.UNAVAILABLE, e.getMessage());
    }
    return e;
  }
}

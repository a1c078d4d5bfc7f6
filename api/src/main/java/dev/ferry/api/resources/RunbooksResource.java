package dev.ferry.api.resources;

import dev.ferry.api.auth.Roles;
import dev.ferry.api.representations.PlanView;
import dev.ferry.api.representations.ValidationResult;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.workflow.Plans;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** Runbooks without runs: is this one right, and what would a run of it do? Nothing starts. */
@Path("/api/runbooks")
@Produces(MediaType.APPLICATION_JSON)
@Consumes({
  "application/yaml",
  "application/x-yaml",
  "text/yaml",
  "text/x-yaml",
  MediaType.TEXT_PLAIN,
  MediaType.APPLICATION_JSON
})
public class RunbooksResource {
  private final RunbookReader reader;

  public RunbooksResource(RunbookReader reader) {
    this.reader = reader;
  }

  /** 200 when the runbook is right; 400 unreadable, 422 with every problem by field. */
  @POST
  @Path("validate")
  @RolesAllowed({Roles.OPERATOR, Roles.APPROVER, Roles.VIEWER})
  public ValidationResult validate(String body) {
    Runbook runbook = reader.read(body);
    return new ValidationResult(true, runbook.app(), runbook.strategy().label());
  }

  /** The ordered steps a run would take, which it would skip and why, its gates and approvers. */
  @POST
  @Path("plan")
  @RolesAllowed({Roles.OPERATOR, Roles.APPROVER, Roles.VIEWER})
  public PlanView plan(String body) {
    Runbook runbook = reader.read(body);
    return PlanView.of(runbook.app(), runbook.strategy().label(), Plans.of(runbook));
  }
}

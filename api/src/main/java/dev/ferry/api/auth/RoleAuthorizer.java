package dev.ferry.api.auth;

import io.dropwizard.auth.Authorizer;
import jakarta.ws.rs.container.ContainerRequestContext;

/** A user holds a role when the configuration gives it. */
public class RoleAuthorizer implements Authorizer<FerryUser> {
  @Override
  public boolean authorize(FerryUser user, String role, ContainerRequestContext requestContext) {
    return user.roles().contains(role);
  }
}

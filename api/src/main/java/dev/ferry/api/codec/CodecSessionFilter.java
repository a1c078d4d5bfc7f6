package dev.ferry.api.codec;

import dev.ferry.api.auth.FerryUser;
import io.dropwizard.auth.AuthFilter;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Cookie;
import java.util.Set;

/**
 * Authenticates by the codec's sign-in cookie ({@link CodecSessions}), and only on the codec's
 * own endpoints: every other endpoint of the API takes a bearer token and nothing else, so the
 * cookie a browser sends on its own can never start, approve or cancel anything.
 */
@Priority(Priorities.AUTHENTICATION)
public final class CodecSessionFilter extends AuthFilter<String, FerryUser> {
  /** Method and path (as Jersey matches it, without the leading slash) of what a cookie may call. */
  static final Set<String> COOKIE_ENDPOINTS =
      Set.of("POST codec/decode", "POST codec/encode", "GET codec/session", "DELETE codec/session");

  @Override
  public void filter(ContainerRequestContext request) {
    String endpoint = request.getMethod() + " " + request.getUriInfo().getPath();
    Cookie cookie = request.getCookies().get(CodecSessions.COOKIE);
    if (!COOKIE_ENDPOINTS.contains(endpoint) || cookie == null || !authenticate(request, cookie.getValue(), "COOKIE")) {
      throw new WebApplicationException(unauthorizedHandler.buildResponse(prefix, realm));
    }
  }

  /** The filter, with Ferry's authorizer and unauthorized answer. */
  public static CodecSessionFilter of(CodecSessions sessions, dev.ferry.api.auth.RoleAuthorizer authorizer,
      io.dropwizard.auth.UnauthorizedHandler unauthorized) {
    return new AuthFilterBuilder<String, FerryUser, CodecSessionFilter>() {
          @Override
          protected CodecSessionFilter newInstance() {
            return new CodecSessionFilter();
          }
        }
        .setAuthenticator(sessions::verify)
        .setAuthorizer(authorizer)
        .setPrefix("Bearer")
        .setRealm("ferry")
        .setUnauthorizedHandler(unauthorized)
        .buildAuthFilter();
  }
}

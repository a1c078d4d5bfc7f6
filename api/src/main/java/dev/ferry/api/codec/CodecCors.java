package dev.ferry.api.codec;

import dev.ferry.api.representations.ErrorBody;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.Set;

/**
 * Cross-origin access to the codec, for the Temporal UI's origins only ({@code codec.allowedOrigins}):
 * the browser's preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}) is answered
 * here, before authentication (a preflight never carries credentials), and answers to an allowed
 * origin say it may read them, with its credentials. A request to the codec from any other origin
 * than those and the API's own is refused before it reaches the codec. Nothing outside {@code
 * /codec} is touched: the rest of the API allows no cross-origin calls.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 100)
public final class CodecCors implements ContainerRequestFilter, ContainerResponseFilter {
  static final String ALLOWED_METHODS = "POST, GET, DELETE";
  /** What the UI sends: its JSON, its namespace, and with "pass access token" its token. */
  static final String ALLOWED_HEADERS = "Authorization, Authorization-Extras, Content-Type, X-Namespace";
  static final String MAX_AGE_SECONDS = "600";

  private final Set<String> origins;

  /** @param origins {@code scheme://host[:port]} of each Temporal UI allowed to call the codec */
  public CodecCors(List<String> origins) {
    this.origins = Set.copyOf(origins);
  }

  @Override
  public void filter(ContainerRequestContext request) {
    if (!codec(request)) {
      return;
    }
    String origin = request.getHeaderString("Origin");
    boolean preflight =
        "OPTIONS".equals(request.getMethod()) && request.getHeaderString("Access-Control-Request-Method") != null;
    if (origin == null) {
      if (preflight) {
        request.abortWith(refused("a preflight without Origin"));
      }
      return; // not a browser's cross-origin call: the CLI, curl, a test
    }
    if (!origins.contains(origin) && !sameOrigin(request, origin)) {
      request.abortWith(refused("origin " + origin + " may not call the codec (codec.allowedOrigins: " + String.join(", ", origins.stream().sorted().toList()) + ")"));
      return;
    }
    if (preflight) {
      request.abortWith(
          Response.noContent()
              .header("Access-Control-Allow-Methods", ALLOWED_METHODS)
              .header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
              .header("Access-Control-Max-Age", MAX_AGE_SECONDS)
              .build());
    }
  }

  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    String origin = request.getHeaderString("Origin");
    if (!codec(request) || origin == null || !origins.contains(origin)) {
      return;
    }
    MultivaluedMap<String, Object> headers = response.getHeaders();
    headers.putSingle("Access-Control-Allow-Origin", origin);
    headers.putSingle("Access-Control-Allow-Credentials", "true");
    headers.add("Vary", "Origin");
  }

  private static boolean codec(ContainerRequestContext request) {
    String path = request.getUriInfo().getPath();
    return path.equals("codec") || path.startsWith("codec/");
  }

  /** The codec's own page calls it from the API's origin. */
  private static boolean sameOrigin(ContainerRequestContext request, String origin) {
    URI base = request.getUriInfo().getBaseUri();
    int port = base.getPort() != -1 ? base.getPort() : "https".equals(base.getScheme()) ? 443 : 80;
    int defaultPort = "https".equals(base.getScheme()) ? 443 : 80;
    String own = base.getScheme() + "://" + base.getHost() + (port == defaultPort ? "" : ":" + port);
    return own.equalsIgnoreCase(origin);
  }

  private static Response refused(String why) {
    return Response.status(Response.Status.FORBIDDEN)
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(403, why))
        .build();
  }
}

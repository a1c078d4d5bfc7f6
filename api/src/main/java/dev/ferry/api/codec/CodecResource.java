package dev.ferry.api.codec;

import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.Roles;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.CodecSessionView;
import dev.ferry.api.representations.ErrorBody.FieldProblem;
import dev.ferry.api.resources.StaticPage;
import dev.ferry.temporal.PayloadEncryption;
import io.dropwizard.auth.Auth;
import io.temporal.api.common.v1.Payload;
import io.temporal.payload.codec.PayloadCodecException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporal's remote codec for Ferry's payloads, so the Temporal UI (and {@code temporal workflow
 * show --codec-endpoint}) show runs readably to people allowed to read them, without Temporal
 * ever holding the key: {@code POST /codec/decode} and {@code /codec/encode} take and give
 * {@code {"payloads": [...]}} in proto JSON, as {@code converter.NewPayloadCodecHTTPHandler} does.
 *
 * <p>Who: decoding needs the viewer role, encoding (the UI's start, signal and update forms) the
 * operator or approver role. Callers show a bearer token, or, from the Temporal UI, the sign-in
 * cookie {@code POST /codec/session} sets ({@link CodecSessions}); the page at {@code GET /codec}
 * does that sign-in.
 *
 * <p>What: a payload this API cannot decrypt (written with a key it does not have, or altered) is
 * passed back unchanged, still encrypted, so the rest of an event still shows; a payload that was
 * never encrypted passes through too. Decoded payloads go through {@link CredentialMask}.
 */
@Path("/codec")
public class CodecResource {
  private static final Logger log = LoggerFactory.getLogger(CodecResource.class);
  /** The sign-in page: static, no data, the same policy as the approvals page. */
  private static final StaticPage PAGE =
      new StaticPage(
          "/codec",
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          Map.of(
              "index.html", "text/html; charset=utf-8",
              "codec.js", "text/javascript; charset=utf-8",
              "codec.css", "text/css; charset=utf-8"));

  private final PayloadEncryption encryption;
  private final CodecSessions sessions;
  private final String namespace;
  private final boolean secureCookie;

  /**
   * @param encryption the payload keys; null when this API runs without (then payloads are not
   *     encrypted, and the codec passes them through)
   * @param namespace the Temporal namespace Ferry uses: a request naming another is refused
   * @param secureCookie mark the sign-in cookie Secure even when the request came over plain HTTP
   *     (behind a proxy that terminates TLS)
   */
  public CodecResource(PayloadEncryption encryption, CodecSessions sessions, String namespace, boolean secureCookie) {
    this.encryption = encryption;
    this.sessions = sessions;
    this.namespace = namespace;
    this.secureCookie = secureCookie;
  }

  @POST
  @Path("decode")
  @RolesAllowed(Roles.VIEWER)
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.APPLICATION_JSON)
  public String decode(@Auth FerryUser user, @HeaderParam("X-Namespace") String ns, String body) {
    checkNamespace(ns);
    List<Payload> payloads = PayloadsJson.read(body);
    List<Payload> out = new ArrayList<>(payloads.size());
    int undecoded = 0;
    int masked = 0;
    for (Payload p : payloads) {
      Payload decoded;
      try {
        decoded = encryption == null ? p : encryption.decode(List.of(p)).get(0);
      } catch (PayloadCodecException e) {
        undecoded++;
        log.warn("codec: a payload stays encrypted for {}: {}", user.getName(), e.getMessage());
        out.add(p);
        continue;
      }
      Payload shown = CredentialMask.mask(decoded);
      if (shown != decoded) {
        masked++;
      }
      out.add(shown);
    }
    if (masked > 0) {
      log.error(
          "codec: masked what looks like a credential in {} decoded payload(s) before they left for {}'s browser;"
              + " a payload must never hold one: find which activity or workflow put it there",
          masked, user.getName());
    }
    log.debug("codec: {} decoded {} payload(s), {} left encrypted", user.getName(), payloads.size() - undecoded, undecoded);
    return PayloadsJson.write(out);
  }

  @POST
  @Path("encode")
  @RolesAllowed({Roles.OPERATOR, Roles.APPROVER})
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.APPLICATION_JSON)
  public String encode(@Auth FerryUser user, @HeaderParam("X-Namespace") String ns, String body) {
    checkNamespace(ns);
    List<Payload> payloads = PayloadsJson.read(body);
    return PayloadsJson.write(encryption == null ? payloads : encryption.encode(payloads));
  }

  /**
   * Signs this browser in for the Temporal UI: a cookie for {@code /codec} only, HttpOnly,
   * SameSite=Strict, for {@code codec.sessionTtl}. Takes a bearer token, never the cookie.
   */
  @POST
  @Path("session")
  @RolesAllowed(Roles.VIEWER)
  @Produces(MediaType.APPLICATION_JSON)
  public Response signIn(@Auth FerryUser user, @Context UriInfo uri) {
    CodecSessions.Session session = sessions.issue(user);
    log.info("codec: {} signed a browser in for the Temporal UI until {}", user.getName(), session.expiresAt());
    return Response.ok(new CodecSessionView(session.user(), session.expiresAt()))
        .cookie(cookie(session.cookie(), (int) sessions.ttl().toSeconds(), uri))
        .header("Cache-Control", "no-store")
        .build();
  }

  /** Whom this browser's cookie signs in, and until when. */
  @GET
  @Path("session")
  @RolesAllowed(Roles.VIEWER)
  @Produces(MediaType.APPLICATION_JSON)
  public Response session(@Auth FerryUser user) {
    return Response.ok(new CodecSessionView(user.getName(), null)).header("Cache-Control", "no-store").build();
  }

  /** Signs this browser out: the cookie is cleared. */
  @DELETE
  @Path("session")
  @RolesAllowed(Roles.VIEWER)
  public Response signOut(@Auth FerryUser user, @Context UriInfo uri) {
    log.info("codec: {} signed a browser out", user.getName());
    return Response.noContent().cookie(cookie("", 0, uri)).build();
  }

  /** The sign-in page. */
  @GET
  @Produces(MediaType.TEXT_HTML)
  public Response page() {
    return PAGE.serve("index.html");
  }

  @GET
  @Path("{file: codec\\.(js|css)}")
  public Response asset(@PathParam("file") String file) {
    return PAGE.serve(file);
  }

  private NewCookie cookie(String value, int maxAge, UriInfo uri) {
    return new NewCookie.Builder(CodecSessions.COOKIE)
        .value(value)
        .path("/codec")
        .maxAge(maxAge)
        .httpOnly(true)
        .secure(secureCookie || "https".equals(uri.getBaseUri().getScheme()))
        .sameSite(NewCookie.SameSite.STRICT)
        .build();
  }

  private void checkNamespace(String ns) {
    if (ns != null && !ns.isBlank() && !ns.equals(namespace)) {
      throw new ApiException(
          ApiException.BAD_REQUEST,
          "this codec decodes Ferry's namespace " + namespace + ", not " + ns,
          List.of(new FieldProblem("X-Namespace", "must be " + namespace)));
    }
  }
}

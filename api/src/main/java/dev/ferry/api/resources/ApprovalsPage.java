package dev.ferry.api.resources;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The approvals page: three static files (no build step) that call the API with the token the
 * user enters once. They hold no data, so they need no token; everything they show comes from
 * the API, which checks it. Served with a content security policy that allows only this origin's
 * scripts and styles, and no framing.
 */
@Path("/")
public class ApprovalsPage {
  static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final Map<String, String> FILES =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "approvals.js", "text/javascript; charset=utf-8",
          "approvals.css", "text/css; charset=utf-8");

  @GET
  public Response index() {
    return file("index.html");
  }

  @GET
  @Path("{file: approvals\\.(js|css)}")
  public Response asset(@PathParam("file") String file) {
    return file(file);
  }

  private static Response file(String name) {
    String type = FILES.get(name);
    if (type == null) {
      throw new NotFoundException();
    }
    byte[] body;
    try (InputStream in = ApprovalsPage.class.getResourceAsStream("/approvals/" + name)) {
      if (in == null) {
        throw new NotFoundException();
      }
      body = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the page's " + name, e);
    }
    return Response.ok(body, type)
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-cache")
        .build();
  }
}

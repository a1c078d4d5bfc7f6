package dev.ferry.api.resources;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/**
 * The approvals page: three static files (no build step) that call the API with the token the
 * user enters once. They hold no data, so they need no token; everything they show comes from
 * the API, which checks it. Served with a content security policy that allows only this origin's
 * scripts and styles, and no framing.
 */
@Path("/")
public class ApprovalsPage {
  private static final StaticPage PAGE =
      new StaticPage(
          "/approvals",
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          Map.of(
              "index.html", "text/html; charset=utf-8",
              "approvals.js", "text/javascript; charset=utf-8",
              "approvals.css", "text/css; charset=utf-8"));

  @GET
  public Response index() {
    return PAGE.serve("index.html");
  }

  @GET
  @Path("{file: approvals\\.(js|css)}")
  public Response asset(@PathParam("file") String file) {
    return PAGE.serve(file);
  }
}

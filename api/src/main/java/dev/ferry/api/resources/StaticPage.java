package dev.ferry.api.resources;

import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * A page of static files on the classpath (no build step, no data of its own), served with a
 * content security policy and the headers that keep it out of frames, caches and referrers.
 *
 * @param directory the classpath directory, e.g. {@code /approvals}
 * @param csp the page's Content-Security-Policy
 * @param files each file the page may serve, with its content type; any other name is 404
 */
public record StaticPage(String directory, String csp, Map<String, String> files) {
  /** One of the page's files, or 404. */
  public Response serve(String name) {
    String type = files.get(name);
    if (type == null) {
      throw new NotFoundException();
    }
    byte[] body;
    try (InputStream in = StaticPage.class.getResourceAsStream(directory + "/" + name)) {
      if (in == null) {
        throw new NotFoundException();
      }
      body = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + directory + "/" + name, e);
    }
    return Response.ok(body, type)
        .header("Content-Security-Policy", csp)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-cache")
        .build();
  }
}

package dev.ferry.api.filters;

import dev.ferry.api.representations.ErrorBody;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Refuses request bodies over a limit with 413 before they are read into memory: at once when
 * Content-Length says so, or as soon as a chunked body passes the limit.
 */
@PreMatching
public class BodySizeLimit implements ContainerRequestFilter {
  private final long defaultMaxBytes;
  private final java.util.Map<String, Long> byPathPrefix = new java.util.LinkedHashMap<>();

  public BodySizeLimit(long maxBytes) {
    this.defaultMaxBytes = maxBytes;
  }

  /** Another limit for the paths that start with {@code pathPrefix} (no leading slash). */
  public BodySizeLimit allowing(String pathPrefix, long maxBytes) {
    byPathPrefix.put(pathPrefix, maxBytes);
    return this;
  }

  @Override
  public void filter(ContainerRequestContext request) {
    String path = request.getUriInfo().getPath();
    long maxBytes =
        byPathPrefix.entrySet().stream().filter(e -> path.startsWith(e.getKey())).map(java.util.Map.Entry::getValue)
            .findFirst().orElse(defaultMaxBytes);
    if (request.getLength() > maxBytes) {
      request.abortWith(tooLarge(maxBytes));
      return;
    }
    request.setEntityStream(new Bounded(request.getEntityStream(), maxBytes));
  }

  private static Response tooLarge(long maxBytes) {
    // Close the connection: the rest of the body is not read, so the client must stop sending.
    return Response.status(413)
        .header("Connection", "close")
        .type(MediaType.APPLICATION_JSON_TYPE)
        .entity(ErrorBody.of(413, "request bodies may be at most " + maxBytes / 1024 + " KiB"))
        .build();
  }

  private static final class Bounded extends FilterInputStream {
    private final long maxBytes;
    private long read;

    Bounded(InputStream in, long maxBytes) {
      super(in);
      this.maxBytes = maxBytes;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) {
      read += n;
      if (read > maxBytes) {
        throw new WebApplicationException(tooLarge(maxBytes));
      }
    }
  }
}

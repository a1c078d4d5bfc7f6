package dev.ferry.worker;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /health} (and {@code GET /metrics}, Prometheus text) on a loopback port, for a container health check (a worker opens no other
 * port): 200 while this worker polls and its Temporal frontend answers, 503 otherwise. Started
 * only when {@code FERRY_WORKER_HEALTH_PORT} is set.
 */
final class WorkerHealth implements AutoCloseable {
  private final HttpServer server;

  private WorkerHealth(HttpServer server) {
    this.server = server;
  }

  static WorkerHealth start(int port, FerryWorker worker) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext(
        "/health",
        exchange -> {
          String problem = worker.problem();
          byte[] body = (problem == null ? "ok" : problem).concat("\n").getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
          exchange.sendResponseHeaders(problem == null ? 200 : 503, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = worker.metrics().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return new WorkerHealth(server);
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

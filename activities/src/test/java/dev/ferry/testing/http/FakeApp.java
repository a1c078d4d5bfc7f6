package dev.ferry.testing.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The app on the AWS side, as smoke checks see it: each path answers a scripted sequence of
 * statuses (the last one repeats), or never answers until the stand-in closes (a request that
 * exceeds any latency ceiling without a sleep anywhere).
 */
public final class FakeApp implements AutoCloseable {
  /** A status that means: do not answer. */
  public static final int HANG = -1;

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final CountDownLatch closing = new CountDownLatch(1);
  private final Map<String, Deque<Integer>> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  public FakeApp() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The statuses a path answers, one per request; the last repeats. */
  public FakeApp answer(String path, int... statuses) {
    Deque<Integer> script = new ArrayDeque<>();
    for (int status : statuses) {
      script.add(status);
    }
    scripts.put(path, script);
    return this;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  public int hits(String path) {
    return hits.getOrDefault(path, new AtomicInteger()).get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    int status = next(path);
    if (status == HANG) {
      try {
        closing.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.close();
      return;
    }
    byte[] body = ("{\"status\":" + status + "}").getBytes();
    if (status == 301 || status == 302) {
      exchange.getResponseHeaders().add("Location", url("/login"));
    }
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  private synchronized int next(String path) {
    Deque<Integer> script = scripts.get(path);
    if (script == null || script.isEmpty()) {
      return 404;
    }
    return script.size() > 1 ? script.poll() : script.peek();
  }

  @Override
  public void close() {
    closing.countDown();
    server.stop(0);
    threads.shutdownNow();
  }
}

package dev.ferry.api.metrics;

import com.codahale.metrics.MetricRegistry;
import dev.ferry.temporal.TemporalMetrics;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The API's Prometheus registry: the Temporal SDK's client metrics ({@link TemporalMetrics}) and
 * Dropwizard's metrics (requests, responses, Jetty, JVM) through the Prometheus client's
 * Dropwizard bridge, exposed in the Prometheus text format on the admin port.
 */
public final class PrometheusMetrics extends TemporalMetrics {

  /** Exposes a Dropwizard registry's metrics too. */
  public PrometheusMetrics withDropwizard(MetricRegistry registry) {
    DropwizardExports.builder().dropwizardRegistry(registry).register(registry());
    return this;
  }

  /** {@code GET} → the text format; for Dropwizard's admin port. */
  public HttpServlet servlet() {
    return new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setStatus(200);
        response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        try (OutputStream out = response.getOutputStream()) {
          scrape(out);
        }
      }
    };
  }
}

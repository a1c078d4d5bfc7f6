package dev.ferry.api.metrics;

import com.codahale.metrics.MetricRegistry;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;

/**
 * One Prometheus registry for a process: Dropwizard's metrics (requests, responses, Jetty, JVM)
 * through the Prometheus client's Dropwizard bridge, and the Temporal SDK's metrics (its tally
 * scope, reported through Micrometer), exposed in the Prometheus text format.
 */
public final class PrometheusMetrics {
  /** How often the Temporal SDK's counters and timers reach the registry. */
  public static final com.uber.m3.util.Duration TEMPORAL_REPORT_EVERY = com.uber.m3.util.Duration.ofSeconds(1);

  private final PrometheusMeterRegistry meters;
  private final Scope temporalScope;

  public PrometheusMetrics() {
    this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), Clock.SYSTEM);
    this.temporalScope =
        new RootScopeBuilder().reporter(new MicrometerClientStatsReporter(meters)).reportEvery(TEMPORAL_REPORT_EVERY);
  }

  /** Exposes a Dropwizard registry's metrics too. */
  public PrometheusMetrics withDropwizard(MetricRegistry registry) {
    DropwizardExports.builder().dropwizardRegistry(registry).register(meters.getPrometheusRegistry());
    return this;
  }

  /** The scope to give {@code WorkflowServiceStubsOptions.setMetricsScope}. */
  public Scope temporalScope() {
    return temporalScope;
  }

  /** The text format Prometheus scrapes. */
  public String scrape() {
    return meters.scrape();
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
          meters.scrape(out);
        }
      }
    };
  }
}

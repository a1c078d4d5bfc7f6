package dev.ferry.temporal;

import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A process's Prometheus registry with the Temporal SDK's metrics in it (its tally scope,
 * reported through Micrometer), in the Prometheus text format. The worker exposes it as it is;
 * the API adds Dropwizard's metrics to the same registry.
 */
public class TemporalMetrics {
  /** How often the Temporal SDK's counters and timers reach the registry. */
  public static final com.uber.m3.util.Duration TEMPORAL_REPORT_EVERY = com.uber.m3.util.Duration.ofSeconds(1);

  private final PrometheusMeterRegistry meters;
  private final Scope temporalScope;

  public TemporalMetrics() {
    this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), Clock.SYSTEM);
    this.temporalScope =
        new RootScopeBuilder().reporter(new MicrometerClientStatsReporter(meters)).reportEvery(TEMPORAL_REPORT_EVERY);
  }

  /** The scope to give {@code WorkflowServiceStubsOptions.setMetricsScope}. */
  public Scope temporalScope() {
    return temporalScope;
  }

  /** The registry, for exporters that add their own metrics to it. */
  protected PrometheusRegistry registry() {
    return meters.getPrometheusRegistry();
  }

  /** The text format Prometheus scrapes. */
  public String scrape() {
    return meters.scrape();
  }

  /** Writes the text format to {@code out}. */
  public void scrape(OutputStream out) throws IOException {
    meters.scrape(out);
  }
}

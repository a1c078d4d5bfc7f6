package dev.ferry.activities.http;

import dev.ferry.activities.Pause;
import dev.ferry.activity.SmokeCheckActivities;
import dev.ferry.model.runbook.SmokeCheckSpec;
import dev.ferry.model.smoke.SmokeCheckRequest;
import dev.ferry.model.smoke.SmokeProgress;
import dev.ferry.model.smoke.SmokeProgress.UrlTally;
import dev.ferry.model.smoke.SmokeVerdict;
import dev.ferry.model.smoke.UrlEvidence;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Smoke checks over a dwell: rounds of GETs, one per URL, {@code interval} apart. The number of
 * rounds follows from the dwell ({@code dwell / interval}, at least one), so the verdict does
 * not depend on how fast the checks run; tests hand in a {@link Pause} that returns at once.
 */
public class SmokeCheckActivitiesImpl implements SmokeCheckActivities {
  private static final Logger log = LoggerFactory.getLogger(SmokeCheckActivitiesImpl.class);
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  private final HttpClient http;
  private final Duration interval;
  private final Pause pause;
  private final LongSupplier nanoTime;

  /**
   * @param http an HTTP client that does not follow redirects (see {@link #httpClient()})
   * @param interval time between the starts of two rounds
   * @param nanoTime the clock latency is measured with ({@code System::nanoTime})
   */
  public SmokeCheckActivitiesImpl(HttpClient http, Duration interval, Pause pause, LongSupplier nanoTime) {
    this.http = http;
    this.interval = interval;
    this.pause = pause;
    this.nanoTime = nanoTime;
  }

  public SmokeCheckActivitiesImpl() {
    this(httpClient(), DEFAULT_INTERVAL, Pause.SLEEP, System::nanoTime);
  }

  /** The client production uses: no redirects followed, connections bounded in time. */
  public static HttpClient httpClient() {
    return HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Override
  public SmokeVerdict runSmokeChecks(SmokeCheckRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    List<SmokeCheckSpec> checks = request.checks();
    int planned = (int) Math.max(1, request.dwell().toMillis() / Math.max(1, interval.toMillis()));
    SmokeProgress progress =
        context.getHeartbeatDetails(SmokeProgress.class).orElseGet(() -> fresh(checks, planned));
    List<Tally> tallies = progress.urls().stream().map(Tally::new).toList();
    int round = progress.roundsDone();
    // Errors beyond this many fail the dwell whatever the remaining rounds bring.
    long allowed = (long) Math.floor(request.maxErrorRate() * planned * checks.size() + 1e-9);
    boolean stoppedEarly = false;
    while (round < planned) {
      long roundStart = nanoTime.getAsLong();
      for (int i = 0; i < checks.size(); i++) {
        tallies.get(i).add(probe(checks.get(i)));
        context.heartbeat(progress);
      }
      round++;
      progress = new SmokeProgress(round, planned, tallies.stream().map(Tally::snapshot).toList());
      context.heartbeat(progress);
      long errors = tallies.stream().mapToLong(t -> t.errors).sum();
      if (errors > allowed) {
        stoppedEarly = round < planned;
        break;
      }
      if (round < planned) {
        Duration spent = Duration.ofNanos(nanoTime.getAsLong() - roundStart);
        pause.pause(interval.minus(spent));
      }
    }
    SmokeVerdict verdict = verdict(request, tallies, round, planned, stoppedEarly);
    log.info("smoke checks: {}", verdict.summary());
    return verdict;
  }

  private static SmokeProgress fresh(List<SmokeCheckSpec> checks, int planned) {
    return new SmokeProgress(
        0, planned, checks.stream().map(c -> new UrlTally(c.url(), 0, 0, List.of(), Map.of())).toList());
  }

  /** One GET: its latency, and why it failed ({@code null} when it did not). */
  private record Probe(long latencyMillis, String failure) {}

  private Probe probe(SmokeCheckSpec check) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(check.url()))
            .timeout(check.maxLatency())
            .header("User-Agent", "ferry-smoke-check")
            .GET()
            .build();
    long start = nanoTime.getAsLong();
    String failure;
    try {
      HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
      long millis = millisSince(start);
      if (response.statusCode() != check.expectStatus()) {
        failure = "status " + response.statusCode();
      } else if (millis > check.maxLatency().toMillis()) {
        failure = "slower than " + human(check.maxLatency());
      } else {
        failure = null;
      }
      return new Probe(millis, failure);
    } catch (HttpConnectTimeoutException e) {
      failure = "connection timed out";
    } catch (HttpTimeoutException e) {
      failure = "slower than " + human(check.maxLatency());
    } catch (ConnectException e) {
      failure = "connection refused";
    } catch (IOException e) {
      failure = "connection failed: " + e.getClass().getSimpleName();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during smoke checks", e);
    }
    return new Probe(millisSince(start), failure);
  }

  private long millisSince(long start) {
    return Duration.ofNanos(nanoTime.getAsLong() - start).toMillis();
  }

  private static SmokeVerdict verdict(
      SmokeCheckRequest request, List<Tally> tallies, int rounds, int planned, boolean stoppedEarly) {
    long requests = tallies.stream().mapToLong(t -> t.requests).sum();
    long errors = tallies.stream().mapToLong(t -> t.errors).sum();
    double rate = requests == 0 ? 0 : (double) errors / requests;
    boolean passed = !stoppedEarly && errors <= request.maxErrorRate() * requests + 1e-9;
    List<Long> all = tallies.stream().flatMap(t -> t.latencies.stream()).toList();
    Duration p95 = Duration.ofMillis(percentile95(all));
    Duration max = Duration.ofMillis(all.stream().mapToLong(Long::longValue).max().orElse(0));
    List<UrlEvidence> urls = tallies.stream().map(Tally::evidence).toList();

    StringBuilder summary = new StringBuilder(passed ? "passed: " : "failed: ");
    summary.append(errors).append(" of ").append(requests).append(" requests failed (")
        .append(percent(rate)).append(", limit ").append(percent(request.maxErrorRate())).append("), p95 ")
        .append(p95.toMillis()).append(" ms, max ").append(max.toMillis()).append(" ms, ")
        .append(rounds).append(" of ").append(planned).append(" rounds");
    if (stoppedEarly) {
      summary.append(", stopped early");
    }
    String reasons =
        urls.stream()
            .filter(u -> u.errors() > 0)
            .map(u -> u.url() + " " + u.failures().entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue()).collect(Collectors.joining(", ")))
            .collect(Collectors.joining("; "));
    if (!reasons.isEmpty()) {
      summary.append(": ").append(reasons);
    }
    return new SmokeVerdict(passed, summary.toString(), rounds, stoppedEarly, requests, errors, rate, p95, max, urls);
  }

  /** Nearest-rank 95th percentile. */
  static long percentile95(List<Long> values) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = values.stream().sorted().toList();
    int rank = (int) Math.ceil(0.95 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.1f %%", share * 100);
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  /** One URL's counts, mutable while the dwell runs. */
  private static final class Tally {
    final String url;
    long requests;
    long errors;
    final List<Long> latencies;
    final Map<String, Long> failures;

    Tally(UrlTally from) {
      url = from.url();
      requests = from.requests();
      errors = from.errors();
      latencies = new ArrayList<>(from.latencyMillis());
      failures = new LinkedHashMap<>(from.failures());
    }

    void add(Probe probe) {
      requests++;
      latencies.add(probe.latencyMillis());
      if (probe.failure() != null) {
        errors++;
        failures.merge(probe.failure(), 1L, Long::sum);
      }
    }

    UrlTally snapshot() {
      return new UrlTally(url, requests, errors, List.copyOf(latencies), Collections.unmodifiableMap(new LinkedHashMap<>(failures)));
    }

    UrlEvidence evidence() {
      return new UrlEvidence(
          url,
          requests,
          errors,
          Duration.ofMillis(percentile95(latencies)),
          Duration.ofMillis(latencies.stream().mapToLong(Long::longValue).max().orElse(0)),
          Collections.unmodifiableMap(new LinkedHashMap<>(failures)));
    }
  }
}

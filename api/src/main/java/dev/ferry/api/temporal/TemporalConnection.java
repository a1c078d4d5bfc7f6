package dev.ferry.api.temporal;

import dev.ferry.temporal.PayloadEncryption;
import com.uber.m3.tally.Scope;
import dev.ferry.api.TemporalSettings;
import io.dropwizard.lifecycle.Managed;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.time.Duration;

/**
 * The API's connection to Temporal, opened lazily (the API starts while Temporal is still
 * coming up; the health check says when it is not reachable) and closed with the application.
 * TLS, the client certificate and the API key come from {@link TemporalSettings#clientSecurity()};
 * payloads are encrypted with {@link TemporalSettings#payloadEncryption()} when it is set.
 */
public class TemporalConnection implements Managed {
  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;
  private final PayloadEncryption encryption;

  public TemporalConnection(TemporalSettings settings, Scope metrics) {
    this.encryption = settings.payloadEncryption();
    WorkflowServiceStubsOptions.Builder options =
        settings
            .clientSecurity()
            .applyTo(WorkflowServiceStubsOptions.newBuilder())
            .setTarget(settings.getAddress())
            .setRpcTimeout(Duration.ofSeconds(10));
    if (metrics != null) {
      options.setMetricsScope(metrics);
    }
    this.stubs = WorkflowServiceStubs.newServiceStubs(options.build());
    this.client =
        WorkflowClient.newInstance(
            stubs,
            WorkflowClientOptions.newBuilder()
                .setNamespace(settings.getNamespace())
                .setDataConverter(PayloadEncryption.dataConverter(encryption))
                .build());
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs stubs() {
    return stubs;
  }

  /** How payloads travel, for the start-up log: never a key. */
  public String payloads() {
    return encryption == null ? "payloads NOT encrypted" : encryption.toString();
  }

  @Override
  public void stop() {
    stubs.shutdown();
    stubs.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }
}

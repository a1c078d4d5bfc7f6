package dev.ferry.api.temporal;

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
 * TLS, the client certificate and the API key come from {@link TemporalSettings#clientSecurity()}.
 */
public class TemporalConnection implements Managed {
  private final WorkflowServiceStubs stubs;
  private final WorkflowClient client;

  public TemporalConnection(TemporalSettings settings) {
    this.stubs =
        WorkflowServiceStubs.newServiceStubs(
            settings
                .clientSecurity()
                .applyTo(WorkflowServiceStubsOptions.newBuilder())
                .setTarget(settings.getAddress())
                .setRpcTimeout(Duration.ofSeconds(10))
                .build());
    this.client =
        WorkflowClient.newInstance(
            stubs, WorkflowClientOptions.newBuilder().setNamespace(settings.getNamespace()).build());
  }

  public WorkflowClient client() {
    return client;
  }

  public WorkflowServiceStubs stubs() {
    return stubs;
  }

  @Override
  public void stop() {
    stubs.shutdown();
    stubs.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
  }
}

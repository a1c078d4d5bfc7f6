package dev.ferry.api.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.health.HealthCheck;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class TemporalHealthCheckTest {
  @Test
  void temporalThatDoesNotAnswer_isUnhealthyAndSaysWhere() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + closedPort).build());
    try {
      HealthCheck.Result result = new TemporalHealthCheck(stubs, "127.0.0.1:" + closedPort).execute();

      assertThat(result.isHealthy()).isFalse();
      assertThat(result.getMessage()).startsWith("Temporal at 127.0.0.1:" + closedPort + " does not answer");
    } finally {
      stubs.shutdownNow();
    }
  }
}

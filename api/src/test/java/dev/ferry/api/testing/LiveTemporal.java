package dev.ferry.api.testing;

import dev.ferry.api.FerryApplication;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.workflow.MigrationWorkflowImpl;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.testserver.TestServer;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.net.ServerSocket;

/**
 * Temporal's test server on a free port, in real time, with a worker running the real workflow
 * against fake databases; and the whole API on the shipped dev configuration, pointed at it.
 */
public final class LiveTemporal implements AutoCloseable {
  private final int port;
  private final TestServer.PortBoundTestServer server;
  private final WorkerFactory workers;

  private LiveTemporal(int port, TestServer.PortBoundTestServer server, WorkerFactory workers) {
    this.port = port;
    this.server = server;
    this.workers = workers;
  }

  public static LiveTemporal start() {
    int port = freePort();
    TestServer.PortBoundTestServer server = TestServer.createPortBoundServer(port, true);
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + port).build());
    WorkerFactory factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs));
    FakeDatabases databases = new FakeDatabases();
    var worker = factory.newWorker("ferry");
    worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class);
    worker.registerActivitiesImplementations(databases);
    factory.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
    factory.start();
    return new LiveTemporal(port, server, factory);
  }

  /** The API as it ships (config/dev.yml, so the README's tokens work), on free ports. */
  public DropwizardAppExtension<FerryConfiguration> devApp() {
    return new DropwizardAppExtension<>(
        FerryApplication.class,
        "config/dev.yml",
        ConfigOverride.config("temporal.address", "127.0.0.1:" + port),
        ConfigOverride.config("server.applicationConnectors[0].port", "0"),
        ConfigOverride.config("server.adminConnectors[0].port", "0"));
  }

  @Override
  public void close() {
    workers.shutdownNow();
    server.close();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}

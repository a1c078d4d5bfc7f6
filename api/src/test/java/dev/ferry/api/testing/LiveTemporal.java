package dev.ferry.api.testing;

import dev.ferry.options.ActivityCatalog;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.FerryConfiguration;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalLedgerActivitiesImpl;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.FakeScratchDatabases;
import dev.ferry.testing.temporal.TemporalDevServer;
import dev.ferry.workflow.RehearsalWorkflowImpl;
import dev.ferry.workflow.MigrationWorkflowImpl;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The real Temporal server ({@code temporal server start-dev}, in memory) on a free port, with a worker running the real workflow
 * (migrations and rehearsals) against fake databases, its payloads encrypted with a key of its own; a ledger database of its
 * own; and the whole API on the shipped dev configuration, pointed at all three.
 */
public final class LiveTemporal implements AutoCloseable {
  private final TemporalDevServer server;
  private final WorkerFactory workers;
  private final String payloadKey;
  private final TestLedger ledger;
  public final FakeDatabases databases;

  private LiveTemporal(
      TemporalDevServer server, WorkerFactory workers, String payloadKey, TestLedger ledger, FakeDatabases databases) {
    this.server = server;
    this.workers = workers;
    this.payloadKey = payloadKey;
    this.ledger = ledger;
    this.databases = databases;
  }

  public static LiveTemporal start() {
    return start(TemporalDevServer.Options.inMemory(), false);
  }

  /** As {@link #start()}, on a server started with {@code options} (its Web UI, say). */
  public static LiveTemporal start(TemporalDevServer.Options options) {
    return start(options, false);
  }

  /**
   * As {@link #start()}, with the server's options (a database file, to restart it), and with
   * the workflows' run events also recorded in this test's real ledger, as a worker with a
   * ledger does (rehearsals a schedule starts are in the ledger only that way).
   */
  public static LiveTemporal start(TemporalDevServer.Options options, boolean ledgerEvents) {
    TemporalDevServer server = TemporalDevServer.start(options);
    String key = PayloadEncryption.randomKey();
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(server.address()).build());
    WorkerFactory factory =
        WorkerFactory.newInstance(
            WorkflowClient.newInstance(
                stubs,
                WorkflowClientOptions.newBuilder().setDataConverter(PayloadEncryption.of(key, "").dataConverter()).build()));
    FakeDatabases databases = new FakeDatabases();
    TestLedger ledger = TestLedger.create();
    if (ledgerEvents) {
      databases.alsoRecordTo = new LedgerActivitiesImpl(ledger.database());
    }
    var worker = factory.newWorker("ferry");
    worker.registerWorkflowImplementationTypes(MigrationWorkflowImpl.class, RehearsalWorkflowImpl.class);
    worker.registerActivitiesImplementations(databases);
    // Rehearsals: scratch databases in memory, their reports in this test's real ledger.
    worker.registerActivitiesImplementations(new FakeScratchDatabases(), new RehearsalLedgerActivitiesImpl(ledger.database()));
    factory.newWorker(FakeDatabases.HOST_QUEUE).registerActivitiesImplementations(databases);
    factory.newWorker(ActivityCatalog.loopQueue("ferry")).registerActivitiesImplementations(databases);
    factory.start();
    return new LiveTemporal(server, factory, key, ledger, databases);
  }

  public String address() {
    return server.address();
  }

  /** The Temporal server itself: to kill and restart it, or run its CLI against it. */
  public TemporalDevServer server() {
    return server;
  }

  /** The server's Web UI; only when started with it. */
  public String uiUrl() {
    return server.uiUrl();
  }

  public TestLedger ledger() {
    return ledger;
  }

  public String payloadKey() {
    return payloadKey;
  }

  /** The API as it ships (config/dev.yml, so the README's tokens work), on free ports. */
  public DropwizardAppExtension<FerryConfiguration> devApp(ConfigOverride... more) {
    return devAppOnPort(0, more);
  }

  /**
   * {@link #devApp}, listening on {@code port}: for a Temporal UI started before the API that
   * must name its codec (the overrides are a set, so a second one for the port would race).
   */
  public DropwizardAppExtension<FerryConfiguration> devAppOnPort(int port, ConfigOverride... more) {
    List<ConfigOverride> overrides = new ArrayList<>();
    overrides.add(ConfigOverride.config("temporal.address", address()));
    overrides.add(ConfigOverride.config("temporal.payloadKey", payloadKey));
    overrides.add(ConfigOverride.config("ledger.url", ledger.url()));
    overrides.add(ConfigOverride.config("server.applicationConnectors[0].port", String.valueOf(port)));
    overrides.add(ConfigOverride.config("server.adminConnectors[0].port", "0"));
    overrides.addAll(List.of(more));
    return new DropwizardAppExtension<>(FerryApplication.class, "config/dev.yml", overrides.toArray(ConfigOverride[]::new));
  }

  @Override
  public void close() {
    workers.shutdownNow();
    server.close();
    ledger.close();
  }
}

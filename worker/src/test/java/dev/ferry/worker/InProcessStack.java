package dev.ferry.worker;

import dev.ferry.api.FerryApplication;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import dev.ferry.testing.temporal.TemporalDevServer;
import io.dropwizard.lifecycle.ServerLifecycleListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;

/**
 * For end-to-end tests: the real Temporal server ({@code temporal server start-dev}, in memory),
 * a Ferry worker and the API (with the shipped dev configuration), worker and API in this JVM,
 * both over gRPC to the server's address exactly as {@code ./ferry dev}'s processes reach it.
 * Payloads are encrypted, and approvals signed, with keys made for the stack (unless the
 * settings bring an approval key).
 */
final class InProcessStack implements AutoCloseable {
  private final TemporalDevServer temporal;
  private final FerryWorker worker;
  private final Server api;
  private final int apiPort;
  private final String payloadKey;

  private InProcessStack(TemporalDevServer temporal, FerryWorker worker, Server api, int apiPort, String payloadKey) {
    this.temporal = temporal;
    this.worker = worker;
    this.api = api;
    this.apiPort = apiPort;
    this.payloadKey = payloadKey;
  }

  /**
   * @param settings the worker's settings; their Temporal address is replaced by the server's
   * @param ledger the run ledger of both
   * @param apiConfig the API's configuration file; its Temporal address, ledger and key are
   *     replaced by the stack's
   */
  static InProcessStack start(WorkerSettings settings, Map<String, String> environment, String ledger, String apiConfig)
      throws Exception {
    String payloadKey = PayloadEncryption.randomKey();
    String approvalKey = null;
    if (!settings.approvalKeys().required()) {
      approvalKey = PayloadEncryption.randomKey();
      settings = settings.withApprovalKeys(ApprovalKeys.of(List.of(ApprovalSignature.decodeKey(approvalKey))));
    }
    TemporalDevServer temporal = TemporalDevServer.start();
    FerryWorker worker = null;
    try {
      worker =
          FerryWorker.start(
              settings.withTemporalAddress(temporal.address()).withLedgerAndEncryption(ledger, PayloadEncryption.of(payloadKey, "")),
              environment);
      CompletableFuture<Server> started = new CompletableFuture<>();
      int[] port = new int[1];
      System.setProperty("dw.temporal.address", temporal.address());
      System.setProperty("dw.ledger.url", ledger);
      System.setProperty("dw.temporal.payloadKey", payloadKey);
      if (approvalKey != null) {
        System.setProperty("dw.approvals.signingKey", approvalKey);
      }
      new FerryApplication()
          .whenStarted(
              new ServerLifecycleListener() {
                @Override
                public void serverStarted(Server server) {
                  port[0] = getLocalPort(server);
                  started.complete(server);
                }
              })
          .whenFatal(e -> started.completeExceptionally(new IllegalStateException("the API did not start", e)))
          .run("server", apiConfig);
      Server api = started.get(60, TimeUnit.SECONDS);
      return new InProcessStack(temporal, worker, api, port[0], payloadKey);
    } catch (Exception | Error e) {
      if (worker != null) {
        worker.kill();
      }
      temporal.close();
      throw e;
    }
  }

  int apiPort() {
    return apiPort;
  }

  /** The key the worker and the API encrypt payloads with: for tests that read history as it is. */
  String payloadKey() {
    return payloadKey;
  }

  String temporalAddress() {
    return temporal.address();
  }

  @Override
  public void close() throws Exception {
    api.stop();
    worker.close();
    temporal.close();
  }
}

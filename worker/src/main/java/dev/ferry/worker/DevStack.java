package dev.ferry.worker;

import dev.ferry.api.FerryApplication;
import dev.ferry.api.temporal.PayloadEncryption;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.ApprovalSignature;
import java.util.List;
import io.dropwizard.lifecycle.ServerLifecycleListener;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: Temporal's Java test server in real time on a loopback port, a Ferry
 * worker and the API beside it, in one JVM. Worker and API reach Temporal over gRPC at its
 * address, exactly as they would reach a full server.
 *
 * <p>Payloads are encrypted as in production (with a key made for the process when FERRY_PAYLOAD_KEY
 * is unset), and runs are recorded in the ledger on the local "rds" cluster.
 *
 * <p>The test server keeps everything in memory: runs do not survive the process, and it has
 * no Schedules and no visibility (list) API.
 */
public final class DevStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DevStack.class);
  /** The ledger of {@code ./ferry dev} and {@code ./ferry demo} when FERRY_LEDGER_URL is unset. */
  static final String DEV_LEDGER_URL = "postgres://ferry:ferry-local-only@127.0.0.1:5434/ferry_ledger";

  private final EmbeddedTemporal temporal;
  private final FerryWorker worker;
  private final Server api;
  private final int apiPort;

  private DevStack(EmbeddedTemporal temporal, FerryWorker worker, Server api, int apiPort) {
    this.temporal = temporal;
    this.worker = worker;
    this.api = api;
    this.apiPort = apiPort;
  }

  /**
   * @param temporalPort where the embedded Temporal listens
   * @param apiConfig the API's configuration file; its Temporal address is replaced by the
   *     embedded server's
   */
  public static DevStack start(
      int temporalPort, WorkerSettings settings, Map<String, String> environment, String apiConfig)
      throws Exception {
    // The ledger: the worker's, else the local "rds" cluster's (worker/dev/postgres-clusters.sh).
    String ledger = settings.ledgerUrl() != null ? settings.ledgerUrl() : environment.getOrDefault("FERRY_LEDGER_URL", DEV_LEDGER_URL);
    // Payloads are encrypted here too: with the given key, or one made for this process, whose
    // runs end with it anyway.
    String payloadKey = environment.get("FERRY_PAYLOAD_KEY");
    if (payloadKey == null || payloadKey.isBlank()) {
      payloadKey = PayloadEncryption.randomKey();
    }
    PayloadEncryption encryption =
        settings.payloadEncryption() != null ? settings.payloadEncryption() : PayloadEncryption.of(payloadKey, "");
    // Approvals are signed here too: with FERRY_APPROVAL_KEY (./ferry dev and ./ferry demo hand
    // it the one kept in .ferry/approval.key), else with a key made for this process.
    String approvalKey = null;
    if (!settings.approvalKeys().required()) {
      approvalKey = PayloadEncryption.randomKey();
      settings = settings.withApprovalKeys(ApprovalKeys.of(List.of(ApprovalSignature.decodeKey(approvalKey))));
    }
    EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort);
    String address = temporal.address();
    FerryWorker worker = null;
    try {
      worker = FerryWorker.start(settings.withTemporalAddress(address).withLedgerAndEncryption(ledger, encryption), environment);
      CompletableFuture<Server> started = new CompletableFuture<>();
      int[] port = new int[1];
      System.setProperty("dw.temporal.address", address);
      System.setProperty("dw.ledger.url", ledger);
      // The embedded server has no Schedule API: schedules are kept by workflows, without a probe.
      System.setProperty("dw.schedules.backend", "workflow");
      if (settings.payloadEncryption() == null) {
        System.setProperty("dw.temporal.payloadKey", payloadKey);
      }
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
      log.info("Ferry dev stack: Temporal {}, API http://127.0.0.1:{}", address, port[0]);
      return new DevStack(temporal, worker, api, port[0]);
    } catch (Exception | Error e) {
      if (worker != null) {
        worker.kill();
      }
      temporal.close();
      throw e;
    }
  }

  public int apiPort() {
    return apiPort;
  }

  @Override
  public void close() throws Exception {
    api.stop();
    worker.close();
    temporal.close();
  }
}

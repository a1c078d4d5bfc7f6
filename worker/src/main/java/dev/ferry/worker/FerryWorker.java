package dev.ferry.worker;

import dev.ferry.activities.aws.AwsClients;
import dev.ferry.activities.copy.CopyActivitiesImpl;
import dev.ferry.activities.aws.ConfigVarActivitiesImpl;
import dev.ferry.activities.aws.DnsActivitiesImpl;
import dev.ferry.activities.aws.RdsActivitiesImpl;
import dev.ferry.activities.heroku.HerokuActivitiesImpl;
import dev.ferry.activities.heroku.HerokuClient;
import dev.ferry.activities.http.SmokeCheckActivitiesImpl;
import dev.ferry.activities.ledger.LedgerActivitiesImpl;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.RunOverlapActivities;
import dev.ferry.activities.ledger.RunOverlapActivitiesImpl;
import dev.ferry.workflow.RehearsalScheduleWorkflowImpl;
import java.util.List;
import dev.ferry.api.metrics.PrometheusMetrics;
import dev.ferry.api.temporal.PayloadEncryption;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreflightActivitiesImpl;
import dev.ferry.activities.postgres.RestoreActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.notify.WebhookNotifier;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.sync.InitialCopy;
import dev.ferry.activities.sync.SyncActivitiesImpl;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.workflow.MigrationWorkflow;
import dev.ferry.workflow.Tuning;
import java.time.Duration;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalLedgerActivitiesImpl;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.workflow.RehearsalWorkflow;
import dev.ferry.workflow.RehearsalWorkflowImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.workflow.MigrationWorkflowImpl;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * A Ferry worker: polls the shared task queue (workflows, preflight, snapshot, verify, and the
 * cutover edge: Route 53, smoke checks, Heroku, config vars, RDS) and this host's own queue
 * (restore and discard of the snapshots this host holds).
 */
public final class FerryWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FerryWorker.class);

  private final WorkflowServiceStubs stubs;
  private final WorkerFactory factory;
  private final PrometheusMetrics metrics;

  private FerryWorker(WorkflowServiceStubs stubs, WorkerFactory factory, PrometheusMetrics metrics) {
    this.stubs = stubs;
    this.factory = factory;
    this.metrics = metrics;
  }

  /**
   * The workflow's tuning from {@code FERRY_HEARTBEAT_TIMEOUT} (how soon an activity of a dead
   * worker is retried elsewhere; default 1m, at least 5s).
   */
  static Tuning tuning(Map<String, String> environment) {
    String heartbeat = environment.get("FERRY_HEARTBEAT_TIMEOUT");
    if (heartbeat == null || heartbeat.isBlank()) {
      return Tuning.DEFAULT;
    }
    Duration timeout;
    try {
      timeout = RunbookParser.parseDuration(heartbeat);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("FERRY_HEARTBEAT_TIMEOUT must be a duration such as 30s or 2m");
    }
    if (timeout.compareTo(Duration.ofSeconds(5)) < 0) {
      // Long activities heartbeat every 2 s; less than 5 s would time out busy ones.
      throw new IllegalArgumentException("FERRY_HEARTBEAT_TIMEOUT must be at least 5s");
    }
    return new Tuning(Tuning.DEFAULT.hostWait(), timeout, Tuning.DEFAULT.lagPoll());
  }

  /**
   * Connects to Temporal and starts polling.
   *
   * @param environment where {@code env:} references resolve (the process environment in
   *     production)
   */
  public static FerryWorker start(WorkerSettings settings, Map<String, String> environment) {
    PrometheusMetrics metrics = new PrometheusMetrics();
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            settings
                .security()
                .applyTo(WorkflowServiceStubsOptions.newBuilder())
                .setTarget(settings.temporalAddress())
                .setMetricsScope(metrics.temporalScope())
                .build());
    WorkflowClient client =
        WorkflowClient.newInstance(
            stubs,
            WorkflowClientOptions.newBuilder()
                .setNamespace(settings.namespace())
                .setDataConverter(PayloadEncryption.dataConverter(settings.payloadEncryption()))
                .build());
    WorkerFactory factory = WorkerFactory.newInstance(client);

    // AWS clients are made on first use: a worker without AWS region or credentials starts,
    // and only a run whose runbook needs AWS (ssm:, dns, configVars, rds) fails, saying why.
    Supplier<SsmClient> ssm = AwsClients.ssm();
    SecretResolver secrets = new SecretResolver(environment, ssm);
    Databases databases = new Databases(secrets);
    PgTools tools = PgTools.locate(environment);
    SnapshotStore store = new SnapshotStore(settings.workDir().resolve("snapshots"));
    store.sweepAbandoned();
    SnapshotActivitiesImpl snapshots =
        new SnapshotActivitiesImpl(databases, tools, store, settings.hostTaskQueue());
    WorkerOptions options =
        WorkerOptions.newBuilder()
            .setMaxConcurrentActivityExecutionSize(settings.maxConcurrentActivities())
            // A cancellation reaches an activity only with a heartbeat's answer, and the SDK
            // sends one per 80 % of the heartbeat timeout by default: the apply loop, cancelled
            // right after the freeze, would hold the cutover's downtime up by most of a minute.
            .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1))
            .build();

    Worker shared = factory.newWorker(settings.taskQueue(), options);
    Tuning tuning = tuning(environment);
    ApprovalKeys approvalKeys = settings.approvalKeys();
    shared.registerWorkflowImplementationFactory(
        MigrationWorkflow.class, () -> new MigrationWorkflowImpl(tuning, approvalKeys));
    // Rehearsal schedules kept as workflows (the API's choice on servers without Schedules).
    shared.registerWorkflowImplementationTypes(RehearsalScheduleWorkflowImpl.class);
    shared.registerWorkflowImplementationFactory(RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(tuning));
    shared.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        snapshots,
        new VerifyActivitiesImpl(databases),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        new SyncActivitiesImpl(databases, new InitialCopy(databases, tools, settings.workDir().resolve("sync"))),
        WebhookNotifier.create(secrets));
    // The streaming copy: its holder and copiers on the shared queue, so every worker takes a share.
    shared.registerActivitiesImplementations(new CopyActivitiesImpl(databases, tools, settings.workDir().resolve("copy")));
    HerokuClient heroku =
        new HerokuClient(
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
            URI.create(environment.getOrDefault("FERRY_HEROKU_API_URL", HerokuClient.DEFAULT_BASE_URL.toString())));
    shared.registerActivitiesImplementations(
        new DnsActivitiesImpl(AwsClients.route53()),
        new SmokeCheckActivitiesImpl(),
        new HerokuActivitiesImpl(secrets, heroku),
        new ConfigVarActivitiesImpl(secrets, heroku, ssm),
        new RdsActivitiesImpl(AwsClients.rds()),
        ledgerActivities(settings, environment),
        overlapActivities(settings, environment),
        new RehearsalActivitiesImpl(databases),
        rehearsalLedgerActivities(settings, environment));

    Worker host = factory.newWorker(settings.hostTaskQueue(), options);
    host.registerActivitiesImplementations(new RestoreActivitiesImpl(databases, tools, store), snapshots);

    factory.start();
    log.info(
        "Ferry worker polling {} and {} on Temporal {} (namespace {}, {}, {}, {}); snapshots in {}",
        settings.taskQueue(),
        settings.hostTaskQueue(),
        settings.temporalAddress(),
        settings.namespace(),
        settings.security(),
        settings.payloadEncryption() == null ? "payloads NOT encrypted" : settings.payloadEncryption(),
        settings.approvalKeys(),
        store.root());
    return new FerryWorker(stubs, factory, metrics);
  }

  /**
   * The ledger the workflows record their events in; its schema is brought up to date here too,
   * so a worker that starts before the API records from its first run. Without FERRY_LEDGER_URL
   * events are dropped (logged once), so that runs never wait for a ledger that is not there.
   */
  private static LedgerActivities ledgerActivities(WorkerSettings settings, Map<String, String> environment) {
    if (settings.ledgerUrl() == null) {
      log.warn("no run ledger (FERRY_LEDGER_URL is unset): run events are not recorded");
      return event -> log.debug("no ledger: dropped {}", event.eventId());
    }
    LedgerDatabase ledger = LedgerDatabase.of(settings.ledgerUrl(), environment);
    try {
      ledger.migrate();
      log.info("run ledger at {}", ledger);
    } catch (RuntimeException e) {
      // The ledger activity retries until the ledger answers; the worker need not wait for it.
      log.warn("the run ledger at {} is not ready yet ({}); run events wait for it", ledger, e.getMessage());
    }
    return new LedgerActivitiesImpl(ledger);
  }

  /**
   * What a rehearsal schedule asks before it fires: the app's open runs in the ledger, confirmed
   * with Temporal. Without a ledger nothing is known, and the rehearsal's own check decides.
   */
  private static RunOverlapActivities overlapActivities(WorkerSettings settings, Map<String, String> environment) {
    if (settings.ledgerUrl() == null) {
      return app -> List.of();
    }
    return new RunOverlapActivitiesImpl(LedgerDatabase.of(settings.ledgerUrl(), environment));
  }

  /**
   * The rehearsals' reports and overlap check. Without FERRY_LEDGER_URL reports are only logged
   * and rehearsals cannot see what else runs: they do not guard against overlapping.
   */
  private static RehearsalLedgerActivities rehearsalLedgerActivities(WorkerSettings settings, Map<String, String> environment) {
    if (settings.ledgerUrl() == null) {
      log.warn("no run ledger: rehearsal reports are only logged, and rehearsals cannot check for overlapping runs");
      return RehearsalLedgerActivitiesImpl.withoutLedger();
    }
    return new RehearsalLedgerActivitiesImpl(LedgerDatabase.of(settings.ledgerUrl(), environment));
  }

  /** Prometheus text of this worker's Temporal SDK metrics (workflow and activity tasks, polls). */
  public String metrics() {
    return metrics.scrape();
  }

  /**
   * Why this worker is not doing its job, or null when it polls and Temporal answers
   * GetSystemInfo within two seconds.
   */
  public String problem() {
    if (!factory.isStarted() || factory.isShutdown()) {
      return "not polling: the worker is stopping";
    }
    try {
      stubs
          .blockingStub()
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
      return null;
    } catch (RuntimeException e) {
      return "Temporal does not answer: " + e.getMessage();
    }
  }

  /** Stops polling, lets running activities finish for a while, then disconnects. */
  @Override
  public void close() {
    factory.shutdown();
    factory.awaitTermination(30, TimeUnit.SECONDS);
    stubs.shutdown();
    stubs.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Stops at once, as a crash would (activities in flight are abandoned, not finished). */
  public void kill() {
    factory.shutdownNow();
    stubs.shutdownNow();
  }
}

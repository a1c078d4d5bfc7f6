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
import dev.ferry.activities.ledger.LedgerVerificationDetails;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.ledger.TemporalRuns;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FenceKeys;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.temporal.TemporalMetrics;
import dev.ferry.temporal.PayloadEncryption;
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
import dev.ferry.activities.sync.SyncChangeFeeds;
import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import dev.ferry.options.ActivityCatalog;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.workflow.MigrationWorkflow;
import dev.ferry.workflow.Tuning;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalActivitiesImpl;
import dev.ferry.activities.rehearsal.RehearsalLedgerActivitiesImpl;
import dev.ferry.activity.RehearsalLedgerActivities;
import dev.ferry.workflow.RehearsalWorkflow;
import dev.ferry.workflow.RehearsalWorkflowImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activities.sweep.SweepSchedule;
import dev.ferry.activities.sweep.Sweeper;
import dev.ferry.workflow.MigrationWorkflowImpl;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.ferry.model.RunSearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.common.SearchAttributeKey;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
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
import java.util.List;
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
  private final TemporalMetrics metrics;
  private final SweepSchedule sweeps;

  private FerryWorker(WorkflowServiceStubs stubs, WorkerFactory factory, TemporalMetrics metrics, SweepSchedule sweeps) {
    this.stubs = stubs;
    this.factory = factory;
    this.metrics = metrics;
    this.sweeps = sweeps;
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
   * The pre-verification's pacing from {@code FERRY_PREVERIFY_SHARE}: the most of the wall clock it
   * spends working on the databases while the sync runs (default 0.1; from 0.01 to 1).
   */
  static PreverifyActivitiesImpl.Settings preverifySettings(Map<String, String> environment) {
    PreverifyActivitiesImpl.Settings d = PreverifyActivitiesImpl.Settings.DEFAULT;
    String share = environment.get("FERRY_PREVERIFY_SHARE");
    if (share == null || share.isBlank()) {
      return d;
    }
    double value;
    try {
      value = Double.parseDouble(share);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("FERRY_PREVERIFY_SHARE must be a number from 0.01 to 1, such as 0.1");
    }
    if (!(value >= 0.01 && value <= 1)) {
      throw new IllegalArgumentException("FERRY_PREVERIFY_SHARE must be a number from 0.01 to 1, such as 0.1");
    }
    return new PreverifyActivitiesImpl.Settings(
        value, d.waitLimit(), d.idle(), d.keysPerCheck(), d.chunksPerCheck(), d.strikes(), d.jobs(), d.pause());
  }

  /** Loops run at once by default: apply and pre-verification of 8 multi-phase runs. */
  static final int DEFAULT_LOOP_SLOTS = 16;

  /**
   * Activity pollers per queue for {@code slots} slots: half of them, at least one. Each idle
   * poller holds a slot; the others are left for the activities the server hands the worker with
   * a workflow task's answer (eager), a trip through matching fewer for each step.
   */
  static int activityPollers(int slots) {
    return Math.max(1, slots / 2);
  }

  /**
   * How many loops ({@link ActivityCatalog#loopQueue}: apply loops and pre-verifications, each
   * held until its run's cutover) this worker runs at once, from {@code FERRY_MAX_LOOPS} (default
   * {@value #DEFAULT_LOOP_SLOTS}; from 1 to 1,000). A loop mostly waits; each holds two or three
   * database sessions. Loops beyond it wait for a slot here or on another worker.
   */
  static int loopSlots(Map<String, String> environment) {
    String slots = environment.get("FERRY_MAX_LOOPS");
    if (slots == null || slots.isBlank()) {
      return DEFAULT_LOOP_SLOTS;
    }
    try {
      int value = Integer.parseInt(slots.trim());
      if (value >= 1 && value <= 1000) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Refused below.
    }
    throw new IllegalArgumentException("FERRY_MAX_LOOPS must be a whole number from 1 to 1000, such as 16");
  }

  /**
   * Connects to Temporal and starts polling.
   *
   * @param environment where {@code env:} references resolve (the process environment in
   *     production)
   */
  public static FerryWorker start(WorkerSettings settings, Map<String, String> environment) {
    TemporalMetrics metrics = new TemporalMetrics();
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
    try {
      awaitNamespace(stubs, settings);
      requireSearchAttributes(stubs, settings);
    } catch (CannotStart e) {
      stubs.shutdownNow();
      throw e;
    }
    WorkerFactory factory = WorkerFactory.newInstance(client);
    int loopSlots = loopSlots(environment);

    // AWS clients are made on first use: a worker without AWS region or credentials starts,
    // and only a run whose runbook needs AWS (ssm:, dns, configVars, rds) fails, saying why.
    Supplier<SsmClient> ssm = AwsClients.ssm();
    SecretResolver secrets = new SecretResolver(environment, ssm);
    log.info("runbook references this worker resolves: {}", secrets.policy());
    Databases databases = new Databases(secrets, fenceKeys(settings));
    PgTools tools = PgTools.locate(environment);
    SnapshotStore store = new SnapshotStore(settings.workDir().resolve("snapshots"));
    store.sweepAbandoned();
    SnapshotActivitiesImpl snapshots =
        new SnapshotActivitiesImpl(databases, tools, store, settings.hostTaskQueue());
    WorkerOptions options =
        WorkerOptions.newBuilder()
            .setMaxConcurrentActivityExecutionSize(settings.maxConcurrentActivities())
            // Each idle poller holds a slot while it waits: with the default five pollers and
            // four slots none was ever free, and a step's activity could not start with the
            // workflow task that scheduled it (eager), only through the server's matching.
            .setMaxConcurrentActivityTaskPollers(activityPollers(settings.maxConcurrentActivities()))
            // A cancellation reaches an activity only with a heartbeat's answer, and the SDK
            // sends one per 80 % of the heartbeat timeout by default: the apply loop, cancelled
            // right after the freeze, would hold the cutover's downtime up by most of a minute.
            .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1))
            .build();

    Worker shared = factory.newWorker(settings.taskQueue(), options);
    VerificationDetails details = verificationDetails(settings, environment);
    Tuning tuning = tuning(environment);
    ApprovalKeys approvalKeys = settings.approvalKeys();
    shared.registerWorkflowImplementationFactory(
        MigrationWorkflow.class, () -> new MigrationWorkflowImpl(tuning, approvalKeys));
    shared.registerWorkflowImplementationFactory(RehearsalWorkflow.class, () -> new RehearsalWorkflowImpl(tuning));
    SyncActivitiesImpl sync = new SyncActivitiesImpl(databases, new InitialCopy(databases, tools, settings.workDir().resolve("sync")));
    PreverifyActivitiesImpl preverify = new PreverifyActivitiesImpl(databases, new SyncChangeFeeds(), preverifySettings(environment));
    shared.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        snapshots,
        new VerifyActivitiesImpl(databases, details),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        sync,
        preverify,
        WebhookNotifier.create(secrets));
    // The streaming copy: its copiers on the shared queue, so every worker takes a share; its
    // snapshot's holder on the loop queue (below; runs begun before stream-copy-holder-loop hold it here).
    CopyActivitiesImpl copy = new CopyActivitiesImpl(databases, tools, settings.workDir().resolve("copy"), details);
    shared.registerActivitiesImplementations(copy);
    // The loops that last until a cutover, with slots of their own: see ActivityCatalog.loopQueue.
    String loopQueue = ActivityCatalog.loopQueue(settings.taskQueue());
    Worker loops =
        factory.newWorker(
            loopQueue, WorkerOptions.newBuilder(options).setMaxConcurrentActivityExecutionSize(loopSlots).build());
    loops.registerActivitiesImplementations(sync, preverify, copy);
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
        new RehearsalActivitiesImpl(databases),
        rehearsalLedgerActivities(settings, environment));

    Worker host = factory.newWorker(settings.hostTaskQueue(), options);
    host.registerActivitiesImplementations(new RestoreActivitiesImpl(databases, tools, store), snapshots);

    factory.start();
    log.info(
        "Ferry worker polling {}, {} ({} slots) and {} on Temporal {} (namespace {}, {}, {}, {}); snapshots in {}",
        settings.taskQueue(),
        loopQueue,
        loopSlots,
        settings.hostTaskQueue(),
        settings.temporalAddress(),
        settings.namespace(),
        settings.security(),
        settings.payloadEncryption() == null ? "payloads NOT encrypted" : settings.payloadEncryption(),
        settings.approvalKeys(),
        store.root());
    if (!settings.approvalKeys().required()) {
      log.warn(ApprovalKeys.unsignedWarning(settings.temporalAddress()));
    }
    return new FerryWorker(stubs, factory, metrics, sweeps(settings, environment, databases, store, client));
  }

  /**
   * What ended runs left behind (dumps here, sync objects and scratch databases in the databases
   * the ledger's runbooks name), swept now and daily: see {@link Sweeper}.
   */
  private static SweepSchedule sweeps(
      WorkerSettings settings, Map<String, String> environment, Databases databases, SnapshotStore store, WorkflowClient client) {
    LedgerDatabase ledger = settings.ledgerUrl() == null ? null : LedgerDatabase.of(settings.ledgerUrl(), environment);
    Sweeper sweeper =
        new Sweeper(ledger, databases, id -> TemporalRuns.isRunning(client, id), store,
            settings.workDir().resolve("sync"), Sweeper.DUMP_GRACE, java.time.Clock.systemUTC());
    return SweepSchedule.start(sweeper, SweepSchedule.DAILY);
  }

  /** Why a worker cannot start: one line that says what to do. */
  public static final class CannotStart extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CannotStart(String message) {
      super(message);
    }
  }

  /** How long a starting worker waits for Temporal to answer before it gives up. */
  static final Duration TEMPORAL_WAIT = Duration.ofMinutes(2);

  /**
   * Waits until Temporal answers (it may still be starting, as in compose), then refuses to
   * poll a namespace that does not exist: without this the worker would poll it forever,
   * logging only the SDK's retries.
   */
  private static void awaitNamespace(WorkflowServiceStubs stubs, WorkerSettings settings) {
    long deadline = System.nanoTime() + TEMPORAL_WAIT.toNanos();
    long nextLog = 0;
    while (true) {
      try {
        stubs
            .blockingStub()
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(settings.namespace()).build());
        return;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.NOT_FOUND || code == Status.Code.INVALID_ARGUMENT) {
          throw new CannotStart(
              "namespace " + settings.namespace() + " does not exist on the Temporal server at " + settings.temporalAddress()
                  + ": create it (temporal operator namespace create --namespace " + settings.namespace()
                  + ") or set TEMPORAL_NAMESPACE");
        }
        if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED) {
          throw new CannotStart(
              "the Temporal server at " + settings.temporalAddress() + " refuses this worker (" + code + ": "
                  + e.getStatus().getDescription() + "): check TEMPORAL_TLS_* and TEMPORAL_API_KEY");
        }
        if (System.nanoTime() > deadline) {
          throw new CannotStart(
              "the Temporal server at " + settings.temporalAddress() + " did not answer in " + TEMPORAL_WAIT.toSeconds()
                  + " s (" + code + "): start it, or set TEMPORAL_ADDRESS");
        }
        if (System.nanoTime() > nextLog) {
          log.info("waiting for Temporal at {} ({})", settings.temporalAddress(), code);
          nextLog = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new CannotStart("interrupted while waiting for Temporal at " + settings.temporalAddress());
        }
      }
    }
  }

  /**
   * Refuses to poll a namespace that lacks Ferry's search attributes ({@link RunSearchAttributes}):
   * there every workflow task that publishes a run's phase fails, and runs stand still at their
   * first step until someone registers them. A server that will not say (no operator rights,
   * as a Cloud API key may have) gets a warning, not a refusal.
   */
  static void requireSearchAttributes(WorkflowServiceStubs stubs, WorkerSettings settings) {
    OperatorServiceStubs operator = OperatorServiceStubs.newServiceStubs(OperatorServiceStubsOptions.newBuilder(stubs.getOptions()).build());
    Map<String, IndexedValueType> registered;
    try {
      registered =
          operator
              .blockingStub()
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .listSearchAttributes(ListSearchAttributesRequest.newBuilder().setNamespace(settings.namespace()).build())
              .getCustomAttributesMap();
    } catch (StatusRuntimeException e) {
      log.warn(
          "could not check Ferry's search attributes in namespace {} ({}): if {} are not registered as Keyword, runs stop at"
              + " their first step",
          settings.namespace(), e.getStatus().getCode(), names(RunSearchAttributes.ALL));
      return;
    } finally {
      operator.shutdownNow();
    }
    List<SearchAttributeKey<String>> missing =
        RunSearchAttributes.ALL.stream()
            .filter(key -> registered.get(key.getName()) != IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD)
            .toList();
    if (!missing.isEmpty()) {
      String ns = settings.namespace();
      throw new CannotStart(
          "namespace " + ns + " lacks Ferry's search attributes " + names(missing) + " (Keyword), without which runs stop at"
              + " their first step: register each with temporal operator search-attribute create --namespace " + ns
              + " --name " + missing.get(0).getName() + " --type Keyword (compose's temporal-setup and ./ferry dev do it)");
    }
  }

  private static String names(List<SearchAttributeKey<String>> keys) {
    return String.join(", ", keys.stream().map(SearchAttributeKey::getName).toList());
  }

  /**
   * The keys to the source's write fence, derived from the payload keys every worker shares, so
   * that a fence one worker installs is passed by another's teardown. Without a payload key they
   * are this process's own (logged: a retry on another worker cannot pass a fence with an event
   * trigger).
   */
  static FenceKeys fenceKeys(WorkerSettings settings) {
    if (settings.payloadEncryption() == null) {
      log.warn("no payload key: the write fence's keys live in this process only; set FERRY_PAYLOAD_KEY so that"
          + " every worker (and this one after a restart) can pass a fence it installed");
      return FenceKeys.ephemeral();
    }
    return FenceKeys.of(settings.payloadEncryption().derivedSecrets("ferry-write-fence"));
  }

  /**
   * Where the verifications keep the comparison of every table and sequence (their results name
   * only a few): the run ledger, else the worker's log.
   */
  private static VerificationDetails verificationDetails(WorkerSettings settings, Map<String, String> environment) {
    if (settings.ledgerUrl() == null) {
      return VerificationDetails.log();
    }
    return new LedgerVerificationDetails(LedgerDatabase.of(settings.ledgerUrl(), environment));
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
    sweeps.close();
    factory.shutdown();
    factory.awaitTermination(30, TimeUnit.SECONDS);
    stubs.shutdown();
    stubs.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Stops at once, as a crash would (activities in flight are abandoned, not finished). */
  public void kill() {
    sweeps.close();
    factory.shutdownNow();
    stubs.shutdownNow();
  }
}

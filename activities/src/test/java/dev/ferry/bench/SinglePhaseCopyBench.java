package dev.ferry.bench;

import dev.ferry.activities.copy.CopyActivitiesImpl;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.PreflightActivitiesImpl;
import dev.ferry.activities.postgres.RestoreActivitiesImpl;
import dev.ferry.activities.postgres.SequenceActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotActivitiesImpl;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.activity.NotifyActivities;
import dev.ferry.model.ApprovalKeys;
import dev.ferry.model.GateDecision;
import dev.ferry.model.MigrationRequest;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepStatus;
import dev.ferry.model.Verdict;
import dev.ferry.model.runbook.RunbookParser;
import dev.ferry.workflow.MigrationWorkflow;
import dev.ferry.workflow.MigrationWorkflowImpl;
import dev.ferry.workflow.Tuning;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import java.lang.management.ManagementFactory;
import java.util.function.Predicate;

/**
 * A single-phase migration as a user runs it, timed from the freeze to the end of the
 * verification: {@code MigrationWorkflow} on a real Temporal server ({@code temporal server
 * start-dev}, started by {@code bench/snapshot-restore.sh}), a worker in this JVM wired as {@code
 * FerryWorker} wires one (the same activity classes, the worker's heartbeat throttle, {@code
 * env:} references), both gates approved by update as soon as they open. Started by the script;
 * never by surefire (its name matches no test pattern).
 *
 * <p>Arguments: {@code --method stream|dump --jobs N --temporal HOST:PORT --work-dir DIR [--settle true]}. The
 * databases are {@code env:BENCH_COPY_SOURCE_URL} and {@code env:BENCH_COPY_TARGET_URL} from
 * this process's environment. Prints {@code ferry.<method>.<step>.seconds} lines for each step
 * the run took, {@code ferry.<method>.copied.seconds} (freeze → verified) and, for the dump,
 * {@code ferry.dump.dumprestore.seconds} (snapshot + restore, what plain pg_dump + pg_restore
 * do). The run's times are the workflow's own step times.
 */
public final class SinglePhaseCopyBench {
  private SinglePhaseCopyBench() {}

  public static void main(String[] args) {
    int status = 1;
    try {
      run(args);
      status = 0;
    } catch (Exception e) {
      e.printStackTrace();
    }
    System.exit(status);
  }

  private static void run(String[] args) throws Exception {
    String method = null;
    int jobs = 0;
    String temporal = null;
    boolean settle = false;
    Path workDir = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--method" -> method = args[i + 1];
        case "--jobs" -> jobs = Integer.parseInt(args[i + 1]);
        case "--temporal" -> temporal = args[i + 1];
        case "--work-dir" -> workDir = Path.of(args[i + 1]);
        case "--settle" -> settle = Boolean.parseBoolean(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (method == null || jobs < 1 || temporal == null || workDir == null) {
      throw new IllegalArgumentException("usage: --method stream|dump --jobs N --temporal HOST:PORT --work-dir DIR");
    }

    WorkflowServiceStubs service =
        WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(temporal).build());
    WorkflowClient client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder().setNamespace("default").build());
    WorkerFactory factory = WorkerFactory.newInstance(client);
    String queue = "ferry-bench-" + UUID.randomUUID();
    String hostQueue = queue + "-host";
    WorkerOptions options =
        WorkerOptions.newBuilder()
            // Room for the holder and every copier, besides the run's own small activities.
            .setMaxConcurrentActivityExecutionSize(jobs + 4)
            .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1))
            .build();
    Databases databases =
        new Databases(
            new SecretResolver(
                System.getenv(),
                () -> {
                  throw new IllegalStateException("the bench resolves env: references only");
                }));
    PgTools tools = PgTools.locate(System.getenv());
    SnapshotStore store = new SnapshotStore(workDir.resolve("snapshots"));
    SnapshotActivitiesImpl snapshots = new SnapshotActivitiesImpl(databases, tools, store, hostQueue);
    CopyActivitiesImpl copy = new CopyActivitiesImpl(databases, tools, workDir.resolve("copy"));
    Worker shared = factory.newWorker(queue, options);
    shared.registerWorkflowImplementationFactory(
        MigrationWorkflow.class, () -> new MigrationWorkflowImpl(Tuning.DEFAULT, ApprovalKeys.none()));
    shared.registerActivitiesImplementations(
        new PreflightActivitiesImpl(databases, tools),
        snapshots,
        new VerifyActivitiesImpl(databases),
        new FreezeActivitiesImpl(databases),
        new SequenceActivitiesImpl(databases),
        copy,
        (NotifyActivities) notification -> {},
        (LedgerActivities) event -> {});
    // The snapshot's holder on the loop queue, as the worker.
    factory.newWorker(dev.ferry.options.ActivityCatalog.loopQueue(queue), options).registerActivitiesImplementations(copy);
    factory.newWorker(hostQueue, options).registerActivitiesImplementations(new RestoreActivitiesImpl(databases, tools, store), snapshots);
    factory.start();
    try {
      String warmSource = System.getenv("BENCH_WARM_SOURCE_URL");
      if (warmSource != null && !warmSource.isEmpty()) {
        // A worker that has copied before (a rehearsal, an earlier run): the same migration of
        // a small database first, untimed, so the JIT has compiled the copy's code paths.
        migrate(client, queue, method, jobs, "BENCH_WARM_SOURCE_URL", "BENCH_WARM_TARGET_URL");
        System.out.println("ferry." + method + ".warm-up done");
        if (settle) {
          System.out.printf(Locale.ROOT, "ferry.%s.settle.seconds %.3f%n", method, settleJit() / 1000.0);
        }
      }
      long[] cpu = new long[2];
      RunStatus done = migrate(client, queue, method, jobs, "BENCH_COPY_SOURCE_URL", "BENCH_COPY_TARGET_URL", cpu);
      long cpuOfCopy = cpu[0];
      Instant frozen = step(done, "freeze-source").startedAt();
      for (StepStatus s : done.steps()) {
        if (s.durationMillis() != null) {
          System.out.printf(Locale.ROOT, "ferry.%s.%s.seconds %.3f%n", method, s.name(), s.durationMillis() / 1000.0);
        }
      }
      System.out.printf(
          Locale.ROOT, "ferry.%s.copied.seconds %.3f%n", method,
          Duration.between(frozen, step(done, "verify").endedAt()).toMillis() / 1000.0);
      // This JVM's CPU from the start gate's approval to the decommission gate (the worker's
      // share of the copy: its streaming and hashing, and its Temporal and JDBC work).
      System.out.printf(Locale.ROOT, "ferry.%s.jvm-cpu.seconds %.3f%n", method, cpuOfCopy / 1e9);
      // Of it, the JIT compilers' time (a worker that has run long has compiled before any run).
      System.out.printf(Locale.ROOT, "ferry.%s.jit.seconds %.3f%n", method, cpu[1] / 1e3);
      if (method.equals("dump")) {
        System.out.printf(
            Locale.ROOT, "ferry.dump.dumprestore.seconds %.3f%n",
            Duration.between(step(done, "snapshot").startedAt(), step(done, "restore").endedAt()).toMillis() / 1000.0);
      }
      System.out.println("ferry." + method + ".verification " + done.verification().summary());
      System.out.println("ferry." + method + ".copy " + (method.equals("stream") ? step(done, "copy").detail() : step(done, "restore").detail()));
    } finally {
      factory.shutdownNow();
      service.shutdownNow();
    }
  }

  private static RunStatus migrate(WorkflowClient client, String queue, String method, int jobs, String source, String target)
      throws InterruptedException {
    return migrate(client, queue, method, jobs, source, target, new long[2]);
  }

  /**
   * One single-phase run, both gates approved as they open; {@code cpu[0]}: this JVM's CPU between
   * them (ns), {@code cpu[1]}: its JIT compilers' time between them (ms).
   */
  private static RunStatus migrate(
      WorkflowClient client, String queue, String method, int jobs, String source, String target, long[] cpu)
      throws InterruptedException {
    String runbook =
        """
        app: bench
        strategy: single-phase
        source:
          databaseUrl: env:%s
        target:
          databaseUrl: env:%s
        snapshot:
          jobs: %d
          method: %s
        gates:
          start:
            approvers: [bench-approver]
          decommission:
            approvers: [bench-approver]
        """
            .formatted(source, target, jobs, method);
    MigrationWorkflow run =
        client.newWorkflowStub(
            MigrationWorkflow.class,
            WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId("migration-bench-" + UUID.randomUUID()).build());
    WorkflowClient.start(run::run, new MigrationRequest(RunbookParser.parse(runbook), "bench-operator"));
    RunStatus atStart = await(run, s -> gateOpen(s, "start") || s.failure() != null);
    if (atStart.failure() != null) {
      throw new IllegalStateException("the run failed before its start gate: " + atStart.failure());
    }
    long cpuAtStart = processCpuNanos();
    long jitAtStart = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    run.decide(new GateDecision("start", Verdict.APPROVE, "bench-approver", "bench"));
    RunStatus atEnd = await(run, s -> gateOpen(s, "decommission") || s.failure() != null);
    cpu[0] = processCpuNanos() - cpuAtStart;
    cpu[1] = ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jitAtStart;
    if (atEnd.failure() != null) {
      throw new IllegalStateException("the run failed: " + atEnd.failure());
    }
    run.decide(new GateDecision("decommission", Verdict.APPROVE, "bench-approver", "bench"));
    RunStatus done = WorkflowStub.fromTyped(run).getResult(RunStatus.class);
    if (done.verification() == null || done.verification().mismatches() > 0) {
      throw new IllegalStateException("the run did not verify: " + done.verification());
    }
    return done;
  }

  /**
   * Waits until the JIT has compiled what the warm-up made hot: its compile time unchanged for two
   * seconds (at most a minute). A worker that has rehearsed before a cutover has been idle since;
   * one that starts the timed copy right after a warm-up is still compiling its backlog in it.
   * Returns the milliseconds waited.
   */
  private static long settleJit() throws InterruptedException {
    long start = System.nanoTime();
    long last = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    long still = System.nanoTime();
    while (System.nanoTime() - still < 2_000_000_000L && System.nanoTime() - start < 60_000_000_000L) {
      Thread.sleep(100);
      long now = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
      if (now != last) {
        last = now;
        still = System.nanoTime();
      }
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static boolean gateOpen(RunStatus s, String gate) {
    return s != null && s.pendingGate() != null && s.pendingGate().gate().equals(gate);
  }

  private static RunStatus await(MigrationWorkflow run, Predicate<RunStatus> done) throws InterruptedException {
    while (true) {
      RunStatus s;
      try {
        s = run.status();
      } catch (RuntimeException notStartedYet) {
        s = null;
      }
      if (s != null && done.test(s)) {
        return s;
      }
      // The observer's queries load the same two cores as the run (each is a workflow query the
      // worker answers): one a second is enough, the figures are the run's own step times, not
      // when this loop saw them.
      Thread.sleep(1000);
    }
  }

  private static StepStatus step(RunStatus s, String name) {
    return s.steps().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
  }
}

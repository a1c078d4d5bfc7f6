package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.process.DatabaseState;
import dev.ferry.testing.process.FerryProcess;
import dev.ferry.testing.process.ProcessStack;
import dev.ferry.testing.process.RunApi;
import dev.ferry.testing.process.StackEnvironment;
import dev.ferry.testing.process.Waiting;
import dev.ferry.testing.process.WorkerKills;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kill-and-resume of a restore, as a user feels it: single-phase runs of a generated source
 * through the real server, the API and worker processes ({@link ProcessStack}), approved at once
 * by the bench; in one of each pair the worker is SIGKILLed while pg_restore copies the biggest
 * table ({@code --kill-at} of its rows, by {@code pg_stat_progress_copy}) and a new worker
 * process is started at once. Reported per run: the whole run (start to SUCCEEDED, wall clock
 * here), the restore step (its times in the run's status), and for a killed run the seconds from
 * the kill to the restore's next attempt heartbeating on the new worker. The pair's order
 * alternates by round. Run by {@code bench/kill-resume.sh}, which generates the source.
 */
public final class KillResumeBench {
  private KillResumeBench() {}

  record Result(int round, boolean killed, double totalSeconds, double restoreSeconds, double toResumeSeconds, int restoreAttempts) {}

  public static void main(String[] args) throws Exception {
    String template = null;
    String table = null;
    long tableRows = 0;
    String heartbeat = "1m";
    int rounds = 1;
    int jobs = 2;
    double killAt = 0.5;
    Path workDir = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--source-template" -> template = value;
        case "--table" -> table = value;
        case "--table-rows" -> tableRows = Long.parseLong(value);
        case "--heartbeat" -> heartbeat = value;
        case "--rounds" -> rounds = Integer.parseInt(value);
        case "--jobs" -> jobs = Integer.parseInt(value);
        case "--kill-at" -> killAt = Double.parseDouble(value);
        case "--work-dir" -> workDir = Path.of(value);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (template == null || table == null || tableRows <= 0 || workDir == null) {
      throw new IllegalArgumentException(
          "usage: --source-template DB --table T --table-rows N --work-dir DIR [--heartbeat 1m] [--rounds 1] [--jobs 2] [--kill-at 0.5]");
    }
    Duration heartbeatTimeout = dev.ferry.model.runbook.RunbookParser.parseDuration(heartbeat);

    // Every round's databases are named up front: the processes get their references at start.
    List<String[]> pairs = new ArrayList<>();
    for (int i = 0; i < 2 * rounds; i++) {
      pairs.add(new String[] {"bench_kr_src_" + ProcessHandle.current().pid() + "_" + i, "bench_kr_tgt_" + ProcessHandle.current().pid() + "_" + i});
    }
    Files.createDirectories(workDir);
    ProcessStack stack =
        ProcessStack.start(
            "kill-resume",
            workDir,
            env -> {
              env.withHeartbeatTimeout(heartbeatTimeout).setForWorker("FERRY_MAX_ACTIVITIES", "4");
              for (int i = 0; i < pairs.size(); i++) {
                env.withApp("r" + i, TestCluster.SOURCE.url(pairs.get(i)[0]), TestCluster.TARGET.url(pairs.get(i)[1]));
              }
              return env;
            });
    List<Result> results = new ArrayList<>();
    try {
      stack.startApiAndWorker();
      for (int round = 0; round < rounds; round++) {
        boolean killFirst = round % 2 == 1;
        for (int k = 0; k < 2; k++) {
          boolean kill = (k == 0) == killFirst;
          int index = 2 * round + k;
          String[] pair = pairs.get(index);
          TestCluster.SOURCE.execute("postgres", "CREATE DATABASE " + pair[0] + " TEMPLATE " + template);
          TestCluster.TARGET.createDatabase(pair[1]);
          try {
            results.add(run(stack, round + 1, "r" + index, pair, kill, table, tableRows, killAt, jobs));
          } finally {
            TestCluster.SOURCE.dropDatabase(pair[0]);
            TestCluster.TARGET.dropDatabase(pair[1]);
          }
        }
      }
    } finally {
      System.out.println(stack.logTails().lines().limit(2).reduce("", (a, b) -> a + b + "\n"));
      stack.close();
    }

    System.out.printf(Locale.ROOT, "heartbeat timeout %s, jobs %d, kill at %.0f%% of %s%n", heartbeat, jobs, killAt * 100, table);
    System.out.println("round  run          total s   restore s   kill→resume s   restore attempts");
    for (Result r : results) {
      System.out.printf(
          Locale.ROOT, "%5d  %-11s %8.1f   %9.1f   %13s   %d%n",
          r.round(), r.killed() ? "killed" : "uninterrupted", r.totalSeconds(), r.restoreSeconds(),
          r.killed() ? String.format(Locale.ROOT, "%.1f", r.toResumeSeconds()) : "-", r.restoreAttempts());
    }
    double plain = results.stream().filter(r -> !r.killed()).mapToDouble(Result::totalSeconds).average().orElse(Double.NaN);
    double killed = results.stream().filter(Result::killed).mapToDouble(Result::totalSeconds).average().orElse(Double.NaN);
    double resume = results.stream().filter(Result::killed).mapToDouble(Result::toResumeSeconds).average().orElse(Double.NaN);
    System.out.printf(Locale.ROOT, "mean: uninterrupted %.1f s, killed %.1f s, extra %.1f s; kill to resume %.1f s%n", plain, killed,
        killed - plain, resume);
    System.exit(0);
  }

  private static Result run(
      ProcessStack stack, int round, String app, String[] pair, boolean kill, String table, long tableRows, double killAt, int jobs) {
    RunApi runs = stack.runs();
    String runbook =
        "app: bench\nstrategy: single-phase\nsource: {databaseUrl: " + StackEnvironment.sourceRef(app) + "}\ntarget: {databaseUrl: "
            + StackEnvironment.targetRef(app) + "}\nsnapshot: {jobs: " + jobs + "}\n";
    Instant started = Instant.now();
    String runId = runs.start(runbook);
    runs.awaitGate(runId, "start", Duration.ofMinutes(5));
    runs.approve(runId, "start", "bench");
    double toResume = Double.NaN;
    if (kill) {
      String restore = DatabaseState.applicationName("ferry-restore", runId);
      long threshold = (long) (tableRows * killAt);
      Waiting.until(
          "the restore to copy " + threshold + " rows of " + table,
          () -> DatabaseState.copyProgress(TestCluster.TARGET, pair[1], restore, table) >= threshold,
          Duration.ofMinutes(30));
      FerryProcess killed = stack.killWorker();
      FerryProcess next = stack.startWorker();
      Instant resumed = new WorkerKills(stack).awaitRetriedOn(runId, "RestoreDatabase", next, killed.killedAt());
      toResume = Duration.between(killed.killedAt(), resumed).toMillis() / 1000.0;
    }
    runs.awaitGate(runId, "decommission", Duration.ofMinutes(30));
    runs.approve(runId, "decommission", "bench");
    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(5));
    Instant ended = Instant.now();
    if (!"SUCCEEDED".equals(done.path("state").asText())) {
      throw new IllegalStateException("run " + runId + " ended " + done.path("state").asText() + ": " + done);
    }
    double restoreSeconds = Double.NaN;
    for (JsonNode step : done.path("steps")) {
      if ("restore".equals(step.path("name").asText())) {
        restoreSeconds = step.path("durationMillis").asLong() / 1000.0;
      }
    }
    int attempts = stack.history().endedOnce(runId, "RestoreDatabase").attempt();
    return new Result(round, kill, Duration.between(started, ended).toMillis() / 1000.0, restoreSeconds, toResume, attempts);
  }
}

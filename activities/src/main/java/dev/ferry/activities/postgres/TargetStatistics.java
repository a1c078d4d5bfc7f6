package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the target's planner its statistics once a copy has landed, before the app's traffic
 * reaches it: neither pg_restore nor a COPY leaves any, and until autovacuum's analyze comes
 * round the planner guesses every table's size. {@code vacuumdb --analyze-only --jobs N}, as
 * PostgreSQL's documentation advises after a restore (pgcopydb runs a VACUUM ANALYZE per table).
 * ANALYZE reads a sample of each table, so its time follows the number of tables more than their
 * size (~0.2 s for 1 GB in a few tables here).
 */
public final class TargetStatistics {
  private static final Logger log = LoggerFactory.getLogger(TargetStatistics.class);

  private final PgTools tools;

  public TargetStatistics(PgTools tools) {
    this.tools = tools;
  }

  /**
   * Analyzes every table of the target's database with {@code jobs} sessions named {@code
   * applicationName}; {@code tick} runs while it works (the activity's heartbeat).
   */
  public void analyze(Endpoint target, String applicationName, int jobs, Runnable tick) {
    long t0 = System.nanoTime();
    List<String> command =
        List.of(
            tools.command("vacuumdb"),
            "--analyze-only",
            "--jobs=" + Math.max(1, jobs),
            "--dbname=" + target.url().database(),
            "--no-password");
    ToolRun.runOrFail(
        "vacuumdb --analyze-only", target, Errors.RESTORE_FAILED, command, target.url().libpqEnvironment(applicationName),
        line -> {}, tick);
    log.info("analyzed {} in {} ms", target.describe(), (System.nanoTime() - t0) / 1_000_000);
  }
}

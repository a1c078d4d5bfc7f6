package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
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
    try {
      ToolRun.Outcome outcome = ToolRun.run(command, target.url().libpqEnvironment(applicationName), line -> {}, tick);
      if (!outcome.succeeded()) {
        throw ToolErrors.classify("vacuumdb --analyze-only", target, outcome, Errors.RESTORE_FAILED);
      }
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure("vacuumdb could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
    log.info("analyzed {} in {} ms", target.describe(), (System.nanoTime() - t0) / 1_000_000);
  }
}

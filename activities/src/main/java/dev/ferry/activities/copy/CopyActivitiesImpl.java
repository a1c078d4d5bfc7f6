package dev.ferry.activities.copy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.VerificationDetails;
import dev.ferry.activity.CopyActivities;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.Activity;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The streaming copy's activities: resolves both databases and hands each call to its part. */
public class CopyActivitiesImpl implements CopyActivities {
  private static final Logger log = LoggerFactory.getLogger(CopyActivitiesImpl.class);

  private final Databases databases;
  private final SnapshotHolder holder;
  private final CopyPlanner planner;
  private final TableCopier copier;
  private final CopyFinisher finisher;
  private final CopyReport report;

  /** A copy whose report's comparisons only the worker's log names (those that differ). */
  public CopyActivitiesImpl(Databases databases, PgTools tools, Path workDir) {
    this(databases, tools, workDir, VerificationDetails.log());
  }

  /**
   * @param workDir where the schema dump is written while a plan or a finish runs (small: no rows)
   * @param details where the copy's report keeps every table's and sequence's comparison, as the
   *     verification does (the run ledger)
   */
  public CopyActivitiesImpl(Databases databases, PgTools tools, Path workDir, VerificationDetails details) {
    this(databases, tools, workDir, CopyTuning.DEFAULT, Pause.SLEEP, details);
  }

  CopyActivitiesImpl(Databases databases, PgTools tools, Path workDir, CopyTuning tuning, Pause pause) {
    this(databases, tools, workDir, tuning, pause, VerificationDetails.log());
  }

  CopyActivitiesImpl(Databases databases, PgTools tools, Path workDir, CopyTuning tuning, Pause pause, VerificationDetails details) {
    this.databases = databases;
    this.holder = new SnapshotHolder(databases, pause);
    this.planner = new CopyPlanner(databases, tools, workDir, tuning, pause);
    this.report = new CopyReport(databases, details);
    this.finisher = new CopyFinisher(databases, tools, workDir, report);
    this.copier = new TableCopier(databases, tuning, pause, finisher);
  }

  @Override
  public void holdSnapshot(CopyRequest request) {
    holder.hold(job(request));
  }

  @Override
  public CopyPlan planCopy(CopyRequest request) {
    return planner.plan(job(request));
  }

  @Override
  public void copyTables(CopyRequest request) {
    copier.run(job(request));
  }

  @Override
  public CopyResult finishCopy(CopyRequest request) {
    return finisher.finish(job(request));
  }

  @Override
  public VerificationReport verifyCopy(CopyRequest request) {
    CopyJob job = job(request);
    // The finish computed it; a copy finished before it did (or without a report) is compared now,
    // and so is one with a table replaced since (dropped and created again after its check).
    try (Connection c = databases.connect(job.target(), job.applicationName("report"))) {
      if (CopyBook.exists(c, job.schema())) {
        var stored = CopyFinisher.report(c, job);
        if (stored.isPresent()) {
          int replaced = CopyReport.replacedSinceChecked(c, job);
          if (replaced == 0) {
            return stored.get();
          }
          log.error("copy {}: {} table(s) replaced on the target since the finish's report; comparing again", job.tag(), replaced);
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
    return report.report(job);
  }

  @Override
  public void endCopy(CopyRequest request) {
    CopyJob job = job(request);
    int source = CopySessions.endSessions(databases, job.source(), job.applicationPrefix(), null);
    int target = CopySessions.endSessions(databases, job.target(), job.applicationPrefix(), null);
    try (Connection c = databases.connect(job.target(), "ferry-janitor")) {
      CopyBook.drop(c, job.schema());
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
    log.info("copy {} ended: {} session(s) on the source and {} on the target ended, bookkeeping dropped", job.tag(), source, target);
  }

  private CopyJob job(CopyRequest request) {
    Endpoint source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    return new CopyJob(request, source, target, Activity.getExecutionContext().getInfo().getWorkflowId());
  }
}

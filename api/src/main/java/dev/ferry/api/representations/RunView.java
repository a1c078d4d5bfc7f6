package dev.ferry.api.representations;

import dev.ferry.api.temporal.RunGateway.LiveProgress;
import dev.ferry.model.Decision;
import dev.ferry.model.PendingGate;
import dev.ferry.model.RefusedDecision;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepStatus;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /api/runs/{id}}: a run's state, its steps with their times, the gate it waits at,
 * what the running step has done so far, and what each finished step found.
 *
 * @param state RUNNING, AWAITING_APPROVAL, SUCCEEDED, FAILED, REJECTED or CANCELLED
 * @param temporalStatus the workflow execution's status as Temporal reports it
 * @param progress the step running now, from its last heartbeat; {@code null} between steps
 */
public record RunView(
    String runId,
    String app,
    String strategy,
    String state,
    String phase,
    String startedBy,
    Instant startedAt,
    Instant endedAt,
    Long durationMillis,
    List<Step> steps,
    Gate pendingGate,
    List<GateDecision> decisions,
    List<RefusedDecisionView> refusedDecisions,
    Progress progress,
    Preflight preflight,
    SnapshotView snapshot,
    Restore restore,
    Verification verification,
    List<String> notes,
    String failure,
    SyncSetup sync,
    SyncLag lag,
    Instant pointOfNoReturn,
    List<String> compensations,
    String temporalStatus) {

  public static RunView from(RunStatus s, String temporalStatus, LiveProgress live) {
    return new RunView(
        s.runId(),
        s.app(),
        s.strategy(),
        s.state().name(),
        s.phase(),
        s.startedBy(),
        s.startedAt(),
        s.endedAt(),
        s.startedAt() != null && s.endedAt() != null
            ? s.endedAt().toEpochMilli() - s.startedAt().toEpochMilli()
            : null,
        s.steps().stream().map(Step::from).toList(),
        Gate.from(s.pendingGate()),
        s.decisions().stream().map(GateDecision::from).toList(),
        s.refusedDecisions().stream().map(RefusedDecisionView::from).toList(),
        Progress.from(live),
        Preflight.from(s.preflight()),
        SnapshotView.from(s.snapshot()),
        Restore.from(s.restore()),
        Verification.from(s.verification()),
        s.notes(),
        s.failure(),
        s.sync(),
        s.lag(),
        s.pointOfNoReturn(),
        s.compensations(),
        temporalStatus);
  }

  public record Step(
      String name, String state, Instant startedAt, Instant endedAt, Long durationMillis, String detail, int attempts) {
    static Step from(StepStatus s) {
      return new Step(s.name(), s.state().name(), s.startedAt(), s.endedAt(), s.durationMillis(), s.detail(), s.attempts());
    }
  }

  /**
   * @param approvers who may decide; empty means any user with the approver role
   * @param evidence what to look at before deciding; send {@code evidenceDigest} back with the
   *     decision to make sure it is still what the gate shows
   */
  public record Gate(
      String gate,
      Instant openedAt,
      Instant remindAt,
      Instant deadline,
      List<String> approvers,
      boolean allowSelfApproval,
      List<String> evidence,
      String evidenceDigest) {
    static Gate from(PendingGate g) {
      return g == null
          ? null
          : new Gate(
              g.gate(), g.openedAt(), g.remindAt(), g.deadline(), g.approvers(), g.allowSelfApproval(), g.evidence(),
              g.evidenceDigest());
    }
  }

  /**
   * @param via update (the API), signal (Temporal UI or CLI) or deadline
   * @param evidenceDigest the digest of the evidence the gate showed when it was decided
   */
  public record GateDecision(
      String gate, String verdict, String decidedBy, String comment, Instant decidedAt, String via, String evidenceDigest) {
    public static GateDecision from(Decision d) {
      return new GateDecision(
          d.gate(), d.verdict().name(), d.decidedBy(), d.comment(), d.decidedAt(), d.via(), d.evidenceDigest());
    }
  }

  public record RefusedDecisionView(String gate, String by, String reason, Instant at) {
    static RefusedDecisionView from(RefusedDecision r) {
      return new RefusedDecisionView(r.gate(), r.by(), r.reason(), r.at());
    }
  }

  /**
   * @param attempt the attempt running now; above 1 means earlier attempts failed
   * @param lastFailure why the previous attempt failed, when it did
   */
  public record Progress(
      String activity,
      int attempt,
      Long tablesDone,
      Long tablesTotal,
      Long bytes,
      String current,
      Instant lastHeartbeatAt,
      String lastFailure) {
    static Progress from(LiveProgress live) {
      if (live == null) {
        return null;
      }
      var beat = live.heartbeat();
      return new Progress(
          live.activity(),
          live.attempt(),
          beat == null ? null : beat.tablesDone(),
          beat == null ? null : beat.tablesTotal(),
          beat == null ? null : beat.bytes(),
          beat == null ? null : beat.current(),
          live.lastHeartbeatAt(),
          live.lastFailure());
    }
  }

  public record Database(
      String endpoint,
      String serverVersion,
      long sizeBytes,
      int tables,
      int sequences,
      boolean readOnly,
      int freeConnections) {
    static Database from(DatabaseFacts f) {
      return new Database(
          f.endpoint(), f.serverVersion(), f.sizeBytes(), f.tables(), f.sequences(), f.readOnly(), f.freeConnections());
    }
  }

  /** @param audit the source's traps: extensions, tables without primary key, large objects… */
  public record Preflight(
      Database source, Database target, String dumpToolVersion, SourceAudit audit, List<String> warnings) {
    static Preflight from(PreflightReport r) {
      return r == null
          ? null
          : new Preflight(Database.from(r.source()), Database.from(r.target()), r.dumpToolVersion(), r.audit(), r.warnings());
    }
  }

  /** @param host the worker host's task queue that holds the dump files */
  public record SnapshotView(String host, long bytes, int tables) {
    static SnapshotView from(Snapshot s) {
      return s == null ? null : new SnapshotView(s.hostTaskQueue(), s.bytes(), s.tables());
    }
  }

  public record Restore(int tables, long bytes) {
    static Restore from(RestoreResult r) {
      return r == null ? null : new Restore(r.tables(), r.bytes());
    }
  }

  /**
   * @param sourceRows -1 when the table is missing on the source (same for targetRows)
   * @param method how it was split into checksummed chunks
   */
  public record Table(
      String table,
      long sourceRows,
      long targetRows,
      String method,
      int chunks,
      List<ChunkMismatch> mismatchedChunks,
      boolean matches) {
    static Table from(TableComparison t) {
      return new Table(
          t.table(), t.sourceRows(), t.targetRows(), t.method(), t.chunks(), t.mismatchedChunks(), t.matches());
    }
  }

  /**
   * @param summary one line with the counts
   * @param problems every mismatch the report names, in a sentence: table and chunk, sequence,
   *     schema object (then how many more, and where they are)
   * @param counts what was compared in all
   * @param tables every table when there are at most 50, else those that differ (at most 50);
   *     {@code GET /api/runs/{id}/verification} pages through all of them (sequences likewise)
   */
  public record Verification(
      boolean passed,
      int mismatches,
      String summary,
      List<String> problems,
      Counts counts,
      List<Table> tables,
      List<SequenceComparison> sequences,
      List<SchemaDifference> schema) {
    static Verification from(VerificationReport r) {
      return r == null
          ? null
          : new Verification(
              r.mismatches() == 0,
              r.mismatches(),
              r.summary(),
              r.problems(),
              Counts.from(r),
              r.tables().stream().map(Table::from).toList(),
              r.sequences(),
              r.schema());
    }
  }

  /**
   * @param rows rows of the tables on the source
   * @param detail where every table's and sequence's comparison is kept, or {@code null}
   */
  public record Counts(
      int tables,
      int tablesDiffering,
      long rows,
      int sequences,
      int sequencesDiffering,
      int schemaDifferences,
      String detail) {
    static Counts from(VerificationReport r) {
      return new Counts(
          r.tableCount(), r.tablesDiffering(), r.rowsOnSource(), r.sequenceCount(), r.sequencesDiffering(), r.schemaDifferences(),
          r.totals() == null ? null : r.totals().detail());
    }
  }
}

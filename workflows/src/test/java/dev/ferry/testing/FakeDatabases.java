package dev.ferry.testing;

import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.model.copy.CopyPlan;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.activity.LedgerActivities;
import dev.ferry.model.RunEvent;
import dev.ferry.activity.NotifyActivities;
import dev.ferry.activity.PreverifyActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.verify.ChangedVerification;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import dev.ferry.model.Notification;
import dev.ferry.model.sync.Drained;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import dev.ferry.activity.PreflightActivities;
import dev.ferry.activity.RestoreActivities;
import dev.ferry.activity.SequenceActivities;
import dev.ferry.activity.SnapshotActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.database.DatabaseFacts;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.FreezeResult;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.model.database.SourceAudit;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.database.PreflightReport;
import dev.ferry.model.database.RestoreRequest;
import dev.ferry.model.database.RestoreResult;
import dev.ferry.model.database.Snapshot;
import dev.ferry.model.database.SnapshotRequest;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Test stand-in for the database activities, for workflow and API tests: records every call,
 * fails where a test tells it to, and can hold the restore until a test releases it.
 */
public class FakeDatabases
    implements CopyActivities,
        PreflightActivities,
        SnapshotActivities,
        RestoreActivities,
        VerifyActivities,
        FreezeActivities,
        SequenceActivities,
        SyncActivities,
        PreverifyActivities,
        NotifyActivities,
        LedgerActivities {
  public static final String HOST_QUEUE = "ferry-host-a";

  private final List<String> calls = new ArrayList<>();
  /** Every target reference a database activity was handed, in order. */
  public final List<String> targetRefs = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Deque<String> snapshotHosts = new ArrayDeque<>();
  public volatile RuntimeException preflightFailure;
  public volatile RuntimeException snapshotFailure;
  public volatile RuntimeException restoreFailure;
  /** Failures for the next restores, one each, before {@link #restoreFailure} applies. */
  public final java.util.Queue<RuntimeException> nextRestoreFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
  public volatile RuntimeException verifyFailure;
  public volatile RuntimeException freezeFailure;
  public volatile RuntimeException unfreezeFailure;
  public volatile RuntimeException sequenceFailure;
  public volatile boolean holdApply;
  /** Thrown by applyChanges (after {@link #holdApply}'s wait, if any). */
  public volatile RuntimeException applyFailure;
  /** What preflight's audit reports as tables without a primary key. */
  public volatile List<String> tablesWithoutPrimaryKey = List.of();
  /** The run events the workflow wrote to the "ledger", in the order they arrived. */
  public final java.util.List<RunEvent> ledger = new java.util.concurrent.CopyOnWriteArrayList<>();
  public volatile RuntimeException startSyncFailure;
  public volatile RuntimeException drainFailure;
  public volatile RuntimeException measureLagFailure;
  /** Measurements that succeed before {@link #measureLagFailure} applies. */
  public volatile int measureLagSucceeds;
  public volatile RuntimeException notifyFailure;
  /** Lags measureLag reports, in order (milliseconds); the last one repeats. */
  public final Deque<Long> lags = new ArrayDeque<>(List.of(0L));
  /** Whether preflight reports the source as read-only before the run. */
  public volatile boolean sourceReadOnly;
  public volatile VerificationReport verification =
      VerificationReport.of(
          List.of(
              matching("public.customers", 5000),
              matching("public.orders", 20000)),
          List.of(new SequenceComparison("public.orders_id_seq", 20001L, 20001L, true)),
          List.of());
  /** Coverage measurePreverification reports, in order; the last one repeats. */
  public final Deque<PreverifyCoverage> coverages = new ArrayDeque<>(List.of(coverage(7, 7, 7)));
  /** Holds the pre-verification loop until cancelled (as {@link #holdApply} does the apply). */
  public volatile boolean holdPreverify;
  /** Thrown by preverifyWhileSyncing (after {@link #holdPreverify}'s wait, if any). */
  public volatile RuntimeException preverifyFailure;
  /** Every pre-verification request, in order. */
  public final List<PreverifyRequest> preverifyRequests = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile CountDownLatch restoreHeld;
  private final CountDownLatch restoreStarted = new CountDownLatch(1);

  /** The next snapshots report these host queues, in order, then {@link #HOST_QUEUE}. */
  public synchronized FakeDatabases snapshotsOnHosts(String... hosts) {
    snapshotHosts.addAll(List.of(hosts));
    return this;
  }

  /** Restores wait until {@link #releaseRestore()}. */
  public FakeDatabases holdRestore() {
    restoreHeld = new CountDownLatch(1);
    return this;
  }

  public void releaseRestore() {
    restoreHeld.countDown();
  }

  public boolean awaitRestoreStarted() throws InterruptedException {
    return restoreStarted.await(30, TimeUnit.SECONDS);
  }

  public synchronized List<String> calls() {
    return List.copyOf(calls);
  }

  /** Records a call, in order with the others (for fakes of other activities too). */
  public synchronized void called(String what) {
    calls.add(what);
  }

  @Override
  public PreflightReport auditDatabases(DatabasePair databases) {
    called("auditDatabases");
    targetRefs.add(databases.targetUrlRef());
    if (preflightFailure != null) {
      throw preflightFailure;
    }
    return new PreflightReport(
        new DatabaseFacts("ferry@heroku:5432/shop", "15.20", 150020, 12_345_678, 2, 2, sourceReadOnly, 90),
        new DatabaseFacts("ferry@rds:5432/shop", "15.20", 150020, 7_654_321, 0, 0, false, 90),
        "pg_dump (PostgreSQL) 15.20",
        new SourceAudit(
            List.of(), tablesWithoutPrimaryKey, List.of(), List.of(), 0, List.of(), List.of(),
            new SourceAudit.LogicalReplication(false, "replica", "wal_level is replica, not logical")),
        List.of());
  }

  @Override
  public synchronized Snapshot dumpDatabase(SnapshotRequest request) {
    called("dumpDatabase");
    if (snapshotFailure != null) {
      throw snapshotFailure;
    }
    String host = snapshotHosts.isEmpty() ? HOST_QUEUE : snapshotHosts.poll();
    return new Snapshot(host, "/tmp/ferry/snapshots/" + calls.size(), 1_000_000, 2);
  }

  @Override
  public void discardSnapshot(Snapshot snapshot) {
    called("discardSnapshot " + snapshot.directory());
  }

  @Override
  public RestoreResult restoreDatabase(RestoreRequest request) {
    called("restoreDatabase");
    targetRefs.add(request.targetUrlRef());
    restoreStarted.countDown();
    CountDownLatch held = restoreHeld;
    if (held != null) {
      try {
        if (!held.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never released the restore");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    RuntimeException next = nextRestoreFailures.poll();
    if (next != null) {
      throw next;
    }
    if (restoreFailure != null) {
      throw restoreFailure;
    }
    return new RestoreResult(request.snapshot().tables(), request.snapshot().bytes());
  }

  @Override
  public VerificationReport verifyDatabases(VerifyRequest request) {
    called("verifyDatabases");
    targetRefs.add(request.databases().targetUrlRef());
    if (verifyFailure != null) {
      throw verifyFailure;
    }
    return verification;
  }

  @Override
  public FreezeResult freezeSource(String sourceUrlRef) {
    called("freezeSource");
    if (freezeFailure != null) {
      throw freezeFailure;
    }
    return new FreezeResult(3, List.of(), "write fence on 5 table(s)");
  }

  @Override
  public void unfreezeSource(String sourceUrlRef) {
    called("unfreezeSource");
    if (unfreezeFailure != null) {
      throw unfreezeFailure;
    }
  }

  @Override
  public void liftFence(String sourceUrlRef) {
    called("liftFence");
    if (unfreezeFailure != null) {
      throw unfreezeFailure;
    }
  }

  @Override
  public SequenceSync syncSequences(DatabasePair databases) {
    called("syncSequences");
    targetRefs.add(databases.targetUrlRef());
    if (sequenceFailure != null) {
      throw sequenceFailure;
    }
    return new SequenceSync(1, 0, List.of());
  }

  /** A table whose two sides agree, in one chunk. */
  public static TableComparison matching(String table, long rows) {
    return new TableComparison(table, rows, rows, "primary key range", 1, 0, List.of(), true);
  }

  /** What checkSync reports as the sync method's refusals and warnings. */
  public volatile List<String> syncRefusals = List.of();
  public volatile List<String> syncWarnings = List.of();
  /** Every sync request an activity was handed, in order. */
  public final List<SyncRequest> syncRequests = new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public SyncCheck checkSync(SyncRequest request) {
    called("checkSync");
    syncRequests.add(request);
    return new SyncCheck(syncRefusals, syncWarnings);
  }

  @Override
  public SyncSetup startSync(SyncRequest request) {
    called("startSync");
    if (startSyncFailure != null) {
      throw startSyncFailure;
    }
    return new SyncSetup(5, 101_500, "triggers on 5 tables, changes in schema ferry_sync");
  }

  /**
   * Returns at once, unless {@link #holdApply}: then it "applies changes" until cancelled,
   * heartbeating (how a cancellation arrives). The test server does not skip time while an
   * activity runs, so only tests that need no timer hold it.
   */
  @Override
  public void applyChanges(SyncRequest request) {
    called("applyChanges");
    if (applyFailure != null) {
      throw applyFailure;
    }
    if (!holdApply) {
      return;
    }
    io.temporal.activity.ActivityExecutionContext context = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (true) {
        if (applyFailure != null) {
          throw applyFailure;
        }
        context.heartbeat(null);
        Thread.sleep(20);
      }
    } catch (io.temporal.client.ActivityCanceledException e) {
      called("applyChanges cancelled");
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized SyncLag measureLag(SyncRequest request) {
    called("measureLag");
    if (measureLagFailure != null && measureLagSucceeds-- <= 0) {
      throw measureLagFailure;
    }
    long lag = lags.size() > 1 ? lags.poll() : lags.peek();
    return new SyncLag(lag / 100, -1, lag, java.time.Instant.EPOCH);
  }

  @Override
  public SyncLag drain(SyncRequest request) {
    called("drain");
    if (drainFailure != null) {
      throw drainFailure;
    }
    return new SyncLag(0, -1, 0, java.time.Instant.EPOCH);
  }

  @Override
  public Drained drainWithSequences(SyncRequest request) {
    called("drainWithSequences");
    if (drainFailure != null) {
      throw drainFailure;
    }
    targetRefs.add(request.databases().targetUrlRef());
    if (sequenceFailure != null) {
      throw sequenceFailure;
    }
    return new Drained(new SyncLag(0, -1, 0, java.time.Instant.EPOCH), new SequenceSync(1, 0, List.of()));
  }

  @Override
  public void stopSync(SyncRequest request) {
    called("stopSync");
  }

  /** Coverage of a pre-verification that has planned {@code chunks} chunks, its oldest changed row 4 s old. */
  public static PreverifyCoverage coverage(long chunks, long checked, long proven) {
    return coverage(chunks, checked, proven, 4_000);
  }

  /** Coverage whose oldest changed row awaiting its re-check is {@code oldestChangeMillis} old. */
  public static PreverifyCoverage coverage(long chunks, long checked, long proven, long oldestChangeMillis) {
    return coverage(chunks, checked, proven, 12, oldestChangeMillis);
  }

  /** Coverage with {@code changedRows} awaiting their re-check, the oldest {@code oldestChangeMillis} old. */
  public static PreverifyCoverage coverage(long chunks, long checked, long proven, long changedRows, long oldestChangeMillis) {
    return new PreverifyCoverage(
        true, 5, chunks, checked, proven, proven * 14_500, 101_500, java.time.Instant.parse("2026-12-01T10:00:00Z"), changedRows,
        oldestChangeMillis, java.time.Instant.parse("2026-12-01T10:05:00Z"));
  }

  @Override
  public void preverifyWhileSyncing(PreverifyRequest request) {
    called("preverifyWhileSyncing");
    preverifyRequests.add(request);
    if (preverifyFailure != null && !holdPreverify) {
      throw preverifyFailure;
    }
    if (!holdPreverify) {
      return;
    }
    io.temporal.activity.ActivityExecutionContext context = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (true) {
        if (preverifyFailure != null) {
          throw preverifyFailure;
        }
        context.heartbeat(null);
        Thread.sleep(20);
      }
    } catch (io.temporal.client.ActivityCanceledException e) {
      called("preverifyWhileSyncing cancelled");
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized PreverifyCoverage measurePreverification(PreverifyRequest request) {
    called("measurePreverification");
    return coverages.size() > 1 ? coverages.poll() : coverages.peek();
  }

  @Override
  public ChangedVerification verifyChangedSincePreverified(PreverifyRequest request) {
    called("verifyChangedSincePreverified");
    targetRefs.add(request.databases().targetUrlRef());
    if (verifyFailure != null) {
      throw verifyFailure;
    }
    return new ChangedVerification(verification, 7, 0, 0, 12);
  }

  @Override
  public void dropPreverification(PreverifyRequest request) {
    called("dropPreverification");
  }

  @Override
  public SyncSetup adoptCopy(SyncRequest request, String copyKey) {
    called("adoptCopy");
    if (adoptCopyFailure != null) {
      throw adoptCopyFailure;
    }
    return new SyncSetup(5, 101_500, "triggers on 5 tables, changes in schema ferry_sync; 5 tables streamed from 1 snapshot(s)");
  }

  // ---- the streaming copy ----------------------------------------------------------------------

  /** The first this many snapshots are lost once their copiers have started. */
  public volatile int snapshotsLost;
  /** Thrown by the holder at once (a source that refuses to export a snapshot). */
  public volatile RuntimeException holdFailure;
  public volatile RuntimeException planFailure;
  /** Thrown by copier 1 (a chunk that keeps differing); the others work until the copy ends. */
  public volatile RuntimeException copyFailure;
  public volatile RuntimeException finishFailure;
  public volatile RuntimeException adoptCopyFailure;
  /** Copiers work until the copy ends (or the test server's cancellation reaches them). */
  public volatile boolean holdCopiers;
  /** The epoch whose holder runs now: copiers of earlier epochs give up. */
  private volatile int holderEpoch;
  private volatile boolean copyEnded;
  private final java.util.Set<Integer> copiersStarted = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.Set<Integer> published = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.Set<Integer> planned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Holds "the snapshot" until cancelled (heartbeating, which is how a cancellation arrives) or
   * until the copy ends; a lost one fails once its copiers have started.
   */
  @Override
  public void holdSnapshot(CopyRequest request) {
    called("holdSnapshot " + request.epoch());
    if (request.epoch() == 1) {
      copyEnded = false;
    }
    holderEpoch = request.epoch();
    if (holdFailure != null) {
      throw holdFailure;
    }
    published.add(request.epoch());
    io.temporal.activity.ActivityExecutionContext context = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (!copyEnded) {
        if (request.epoch() <= snapshotsLost && copiersStarted.contains(request.epoch())) {
          throw io.temporal.failure.ApplicationFailure.newFailure(
              "the session holding the copy's snapshot ended", dev.ferry.model.Errors.DATABASE_UNREACHABLE);
        }
        context.heartbeat(request.epoch());
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits, as the real one does, for the epoch's holder to publish its snapshot. */
  @Override
  public CopyPlan planCopy(CopyRequest request) {
    called("planCopy " + request.epoch());
    if (planFailure != null) {
      throw planFailure;
    }
    io.temporal.activity.ActivityExecutionContext context = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (!published.contains(request.epoch())) {
        if (copyEnded) {
          throw io.temporal.failure.ApplicationFailure.newFailure("the copy ended", dev.ferry.model.Errors.STEP_FAILED);
        }
        context.heartbeat(null);
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    planned.add(request.epoch());
    return new CopyPlan(2, 3, 1_000_000, 2, request.epoch() > 1 ? 1 : 0, request.epoch() > 1 ? 1 : 0);
  }

  /**
   * Waits for its epoch's plan, as the real one does; then returns at once, or for a lost
   * snapshot's epoch works until its holder is replaced.
   */
  @Override
  public void copyTables(CopyRequest request) {
    called("copyTables " + request.epoch() + "/" + request.copier());
    io.temporal.activity.ActivityExecutionContext waiting = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (!planned.contains(request.epoch())) {
        if (copyEnded || holderEpoch > request.epoch()) {
          throw io.temporal.failure.ApplicationFailure.newFailure("no plan", dev.ferry.model.Errors.STEP_FAILED);
        }
        waiting.heartbeat(null);
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    copiersStarted.add(request.epoch());
    if (copyFailure != null && request.copier() == 1) {
      throw copyFailure;
    }
    // The other copiers work on until the run ends the copy: cancelling an activity the test
    // server has just completed wedges it, so they must not finish at the same moment.
    if (request.epoch() > snapshotsLost && !holdCopiers && copyFailure == null) {
      return;
    }
    io.temporal.activity.ActivityExecutionContext context = io.temporal.activity.Activity.getExecutionContext();
    try {
      while (holderEpoch <= request.epoch() && !copyEnded) {
        context.heartbeat(null);
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw io.temporal.failure.ApplicationFailure.newFailure("the copy's snapshot is gone", dev.ferry.model.Errors.DATABASE_UNREACHABLE);
  }

  @Override
  public CopyResult finishCopy(CopyRequest request) {
    called("finishCopy " + request.epoch());
    if (finishFailure != null) {
      throw finishFailure;
    }
    return new CopyResult(2, 25_000, 1_000_000, 3, 0, 2, request.epoch(), request.epoch() == 1 ? "from one snapshot" : "snapshot lost");
  }

  @Override
  public VerificationReport verifyCopy(CopyRequest request) {
    called("verifyCopy");
    targetRefs.add(request.databases().targetUrlRef());
    if (verifyFailure != null) {
      throw verifyFailure;
    }
    return verification;
  }

  @Override
  public void endCopy(CopyRequest request) {
    called("endCopy");
    copyEnded = true;
  }

  @Override
  public void send(Notification notification) {
    called("notify " + notification.event());
    if (notifyFailure != null) {
      throw notifyFailure;
    }
  }

  /** A real ledger's activity that run events also go to, for tests that read the ledger. */
  public volatile LedgerActivities alsoRecordTo;

  @Override
  public void recordRunEvent(RunEvent event) {
    ledger.add(event);
    LedgerActivities real = alsoRecordTo;
    if (real != null) {
      real.recordRunEvent(event);
    }
  }
}

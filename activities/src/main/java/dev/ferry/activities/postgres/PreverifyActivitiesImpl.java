package dev.ferry.activities.postgres;

import dev.ferry.activities.Pause;
import dev.ferry.activity.PreverifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.model.verify.ChangedVerification;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification before the freeze ({@link PreverifyActivities}): proofs kept on the target in a
 * {@link VerifyLedger}, compared by a {@link Prover}, the source's changes told by the sync's
 * {@link ChangeFeed}, writes to the target outside the sync by {@link TargetWriteCapture}.
 *
 * <p>Why the final verify may skip what stands proven: a chunk's proof says that in source
 * snapshot S and target snapshot T, where T holds every change S holds, the chunk's rows were the
 * same on both sides (the checksum of {@link ChunkChecksum}, with the keys whose change was in
 * flight left out and kept pending). After it, a row of the chunk changes only by a source change
 * (captured with its transaction id: pending until a later comparison that holds it finds the row
 * equal), a write to the target outside the sync (captured likewise), or the sync applying a
 * source change, which is one of the first kind: a change S holds was applied before T. So at the
 * frozen point a row with no pending change is as it was proven, on both sides; the final verify
 * compares the pending rows and the chunks without a proof. One comparison at a time per table
 * (one thread here), so proofs of one key never interleave.
 *
 * <p>The loop rests between comparisons so that it takes at most {@code share} of the wall clock
 * in queries on the two databases (the source serves the app meanwhile).
 */
public class PreverifyActivitiesImpl implements PreverifyActivities {
  private static final Logger log = LoggerFactory.getLogger(PreverifyActivitiesImpl.class);
  private static final String APPLICATION_NAME = "ferry-preverify";

  /**
   * How the loop paces itself.
   *
   * @param share the most of the wall clock it spends in queries (the rest it rests)
   * @param waitLimit how long a comparison waits for the target to catch up with its source snapshot
   * @param idle how long it rests when there is nothing to compare
   * @param keysPerCheck changed keys compared in one go
   * @param chunksPerCheck chunks compared in one pair of snapshots
   * @param strikes unexplained differences of one chunk or key before the verification fails
   * @param jobs tables the final verify compares at once
   */
  public record Settings(
      double share, Duration waitLimit, Duration idle, int keysPerCheck, int chunksPerCheck, int strikes, int jobs, Pause pause) {
    public static final Settings DEFAULT =
        new Settings(0.2, Duration.ofSeconds(20), Duration.ofSeconds(1), 5_000, 4, 3, 2, Pause.SLEEP);
  }

  private final Databases databases;
  private final ChangeFeed.Factory feeds;
  private final Settings settings;

  public PreverifyActivitiesImpl(Databases databases, ChangeFeed.Factory feeds) {
    this(databases, feeds, Settings.DEFAULT);
  }

  public PreverifyActivitiesImpl(Databases databases, ChangeFeed.Factory feeds, Settings settings) {
    this.databases = databases;
    this.feeds = feeds;
    this.settings = settings;
  }

  // ---- while the sync runs --------------------------------------------------------------------

  @Override
  public void preverifyWhileSyncing(PreverifyRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Run run = new Run(request, context);
    Progress[] progress = {Progress.of(0, 0, 0, "setting up")};
    Map<String, Integer> keyStrikes = new HashMap<>();
    try (Prover prover = run.prover(false, () -> context.heartbeat(progress[0]))) {
      Map<Catalog.Table, List<Catalog.KeyColumn>> keys = setUp(run, prover, progress);
      long nextCoverage = 0;
      while (true) {
        boolean worked = false;
        prover.fold(null);
        run.ledger.withdrawProofsOfWholeTableChanges(prover.targetControl);
        // Changed keys first: re-checked rows keep the proofs of their chunks standing.
        for (Catalog.Table t : run.ledger.tablesWithPending(prover.targetControl, 1_000)) {
          List<Catalog.KeyColumn> key = keys.get(t);
          List<List<String>> pending;
          if (key == null || key.isEmpty() || (pending = run.ledger.pendingKeys(prover.targetControl, t, settings.keysPerCheck())).isEmpty()) {
            continue;
          }
          Prover.Result r = prover.proveKeys(new Prover.KeyedTable(t, key), pending);
          worked = true;
          strike(run, t, key, r, keyStrikes);
          rest(prover, context, progress[0]);
        }
        for (Catalog.Table t : run.ledger.tablesWithUnprovenChunks(prover.targetControl, 4)) {
          List<Catalog.KeyColumn> key = keys.get(t);
          if (key == null) {
            continue; // not the source's any more: the sync stops on the schema change
          }
          List<VerifyLedger.Chunk> chunks = run.ledger.chunks(prover.targetControl, t, true, settings.chunksPerCheck());
          List<Prover.Result> results = prover.proveChunks(new Prover.KeyedTable(t, key), chunks);
          worked = true;
          for (int i = 0; i < chunks.size(); i++) {
            judge(run, prover, key, chunks.get(i), results.get(i));
          }
          rest(prover, context, progress[0]);
        }
        if (System.nanoTime() > nextCoverage) {
          PreverifyCoverage c = run.ledger.coverage(prover.targetControl);
          progress[0] = Progress.of(c.chunksProven(), c.chunks(), 0, c.summary());
          nextCoverage = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        }
        context.heartbeat(progress[0]);
        if (!worked) {
          settings.pause().pause(settings.idle());
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(run.target, e);
    }
  }

  /**
   * Once per pre-verification (a retry finds it done): the ledger, the captures, then the plan;
   * the changes captured before the plan concern no proof and are forgotten.
   */
  private Map<Catalog.Table, List<Catalog.KeyColumn>> setUp(Run run, Prover prover, Progress[] progress) throws SQLException {
    Connection source = prover.sourceControl;
    Connection target = prover.targetControl;
    Map<Catalog.Table, List<Catalog.KeyColumn>> keys = keyedTables(source);
    if (run.ledger.exists(target) && run.ledger.state(target, "planned").isPresent()) {
      return keys;
    }
    run.ledger.create(target);
    TargetWriteCapture.installFunction(target, run.ledger);
    TargetWriteCapture.install(target, run.ledger, keys);
    run.feed.install(source);
    run.feed.forgetEarlier(source);
    Map<Catalog.Table, Long> estimates = Catalog.rowEstimates(source);
    int done = 0;
    for (Map.Entry<Catalog.Table, List<Catalog.KeyColumn>> e : keys.entrySet()) {
      Catalog.Table t = e.getKey();
      if (!run.ledger.planned(target, t)) {
        long estimate = estimates.getOrDefault(t, 0L);
        ChunkPlan plan = ChunkPlan.of(source, target, t, e.getValue(), estimate);
        run.ledger.plan(target, t, plan.method(), estimate, plan.uppers());
      }
      progress[0] = Progress.of(++done, keys.size(), 0, "planning chunks: " + t.display());
      run.context.heartbeat(progress[0]);
    }
    run.ledger.putState(target, "planned", Instant.now().toString());
    log.info("pre-verification {} planned: {} tables", run.ledger.schema(), keys.size());
    return keys;
  }

  /** A chunk's verdict: a difference nothing in flight explains is a strike; too many fail the run. */
  private void judge(Run run, Prover prover, List<Catalog.KeyColumn> key, VerifyLedger.Chunk chunk, Prover.Result r)
      throws SQLException {
    switch (r.verdict()) {
      case PROVEN, LAGGING -> {}
      case IN_FLIGHT -> run.ledger.differed(prover.targetControl, chunk, false);
      case DIFFERENT -> {
        int strikes = run.ledger.differed(prover.targetControl, chunk, true);
        if (strikes >= settings.strikes()) {
          throw ApplicationFailure.newNonRetryableFailure(
              chunk.table().display() + ": the rows with " + ChunkChecksum.describe(key, chunk.lower(), chunk.upper())
                  + " differ between source (" + r.sourceRows() + " rows) and target (" + r.targetRows() + " rows) in "
                  + strikes + " comparisons, with no change in flight to explain it (the target had caught up with the"
                  + " source each time): the sync lost a change, or something wrote to the target outside it. Stopped"
                  + " before the freeze; the source was never frozen.",
              Errors.VERIFICATION_FAILED);
        }
      }
    }
  }

  private void strike(Run run, Catalog.Table t, List<Catalog.KeyColumn> key, Prover.Result r, Map<String, Integer> strikes) {
    for (List<String> k : r.differingKeys()) {
      int n = strikes.merge(t.display() + " " + k, 1, Integer::sum);
      if (n >= settings.strikes()) {
        throw ApplicationFailure.newNonRetryableFailure(
            t.display() + ": the row with " + Prover.describeKey(key, k) + " differs between source and target in " + n
                + " comparisons, with no change in flight to explain it (the target had caught up with the source each"
                + " time): the sync lost a change, or something wrote to the target outside it. Stopped before the"
                + " freeze; the source was never frozen.",
            Errors.VERIFICATION_FAILED);
      }
    }
  }

  /** Rests so that queries take at most {@code share} of the time; waiting for the target counts as rest. */
  private void rest(Prover prover, ActivityExecutionContext context, Progress progress) {
    long[] times = prover.takeTimes();
    long rest = (long) (times[0] * (1 / settings.share() - 1)) - times[1];
    while (rest > 0) {
      context.heartbeat(progress);
      long slice = Math.min(rest, Duration.ofSeconds(1).toNanos());
      settings.pause().pause(Duration.ofNanos(slice));
      rest -= slice;
    }
  }

  // ---- the gate's evidence --------------------------------------------------------------------

  @Override
  public PreverifyCoverage measurePreverification(PreverifyRequest request) {
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    try (Connection c = databases.connect(target, APPLICATION_NAME)) {
      return VerifyLedger.of(request.idempotencyKey()).coverage(c);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
  }

  // ---- at the freeze --------------------------------------------------------------------------

  @Override
  public ChangedVerification verifyChangedSincePreverified(PreverifyRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Run run = new Run(request, context);
    Totals totals = new Totals();
    List<SchemaDifference> schema;
    List<SequenceComparison> sequences;
    TableComparison largeObjects;
    Set<Catalog.Table> onSource;
    Set<Catalog.Table> onTarget;
    Map<Catalog.Table, List<Catalog.KeyColumn>> keys;
    Map<Catalog.Table, Long> estimates;
    Map<Catalog.Table, String> methods = new java.util.concurrent.ConcurrentHashMap<>();
    List<TableComparison> tables = new CopyOnWriteArrayList<>();
    try (Prover prover = run.prover(true, () -> context.heartbeat(totals.progress()))) {
      Connection s = prover.sourceControl;
      Connection t = prover.targetControl;
      if (!run.ledger.exists(t) || run.ledger.state(t, "planned").isEmpty()) {
        // Never planned (the pre-verification failed before its plan): verify everything.
        log.info("no pre-verification in {}: verifying everything", run.ledger.schema());
        VerificationReport full = new VerifyActivitiesImpl(databases).verifyDatabases(new VerifyRequest(request.databases(), settings.jobs()));
        long chunks = full.tables().stream().mapToLong(TableComparison::chunks).sum();
        long rows = full.tables().stream().mapToLong(tc -> Math.max(0, tc.sourceRows())).sum();
        return new ChangedVerification(full, chunks, chunks, rows, 0);
      }
      schema = SchemaComparison.differences(SchemaComparison.read(s), SchemaComparison.read(t));
      sequences = VerifyActivitiesImpl.compareSequences(Sequences.read(s), Sequences.read(t));
      largeObjects = VerifyActivitiesImpl.compareLargeObjects(ChunkChecksum.largeObjects(s), ChunkChecksum.largeObjects(t));
      onSource = new TreeSet<>(Catalog.tablesWithRows(s));
      onTarget = new TreeSet<>(Catalog.tablesWithRows(t));
      keys = Catalog.primaryKeys(s);
      estimates = Catalog.rowEstimates(s);
      // Everything captured up to the freeze (read, not consumed: the source stays untouched).
      prover.fold(null);
      run.ledger.withdrawProofsOfWholeTableChanges(t);
      // One look at the whole ledger; only the tables with something to re-check get queries of their own.
      Map<Catalog.Table, VerifyLedger.TableTotals> planned = run.ledger.totals(t);
      Set<Catalog.Table> changed = new java.util.HashSet<>(run.ledger.tablesWithPending(t, Integer.MAX_VALUE));
      planned.values().forEach(p -> {
        methods.put(p.table(), p.method());
        totals.chunks.addAndGet(p.chunks());
      });
      Set<Catalog.Table> all = new TreeSet<>(onSource);
      all.addAll(onTarget);
      List<Catalog.Table> work = new ArrayList<>();
      long unproven = 0;
      for (Catalog.Table table : all) {
        VerifyLedger.TableTotals p = planned.get(table);
        if (p == null || !onSource.contains(table) || !onTarget.contains(table) || p.unproven() > 0 || changed.contains(table)) {
          work.add(table);
          unproven += p == null ? settings.chunksPerCheck() + 1 : p.unproven();
        } else {
          tables.add(
              new TableComparison(
                  table.display(), p.provenRows(), p.provenRows(), p.method() + ", pre-verified", (int) p.chunks(), 0, List.of(), true));
        }
      }
      work.sort(Comparator.comparingLong((Catalog.Table x) -> -estimates.getOrDefault(x, 0L)).thenComparing(x -> x));
      boolean little = unproven <= settings.chunksPerCheck();
      if (little) {
        // What stood proven needs no more connections than these: the usual case, in the downtime.
        for (Catalog.Table table : work) {
          tables.add(
              recheck(run, prover, table, keys.getOrDefault(table, List.of()), estimates.getOrDefault(table, 0L),
                  onSource.contains(table), onTarget.contains(table), methods, totals));
          totals.tablesDone.incrementAndGet();
          context.heartbeat(totals.progress());
        }
      } else {
        recheckInParallel(run, context, work, keys, estimates, onSource, onTarget, methods, totals, tables);
      }
    } catch (SQLException e) {
      throw Databases.failure(run.target, e);
    }
    List<TableComparison> sorted = new ArrayList<>(tables);
    if (largeObjects != null) {
      sorted.add(largeObjects);
    }
    sorted.sort(Comparator.comparing(TableComparison::table));
    VerificationReport report = VerificationReport.of(sorted, sequences, schema);
    if (report.mismatches() == 0) {
      // The target is about to take the app's writes: the capture stops recording from now on.
      try (Connection t = databases.connect(run.target, APPLICATION_NAME)) {
        TargetWriteCapture.silence(t, run.ledger);
      } catch (SQLException e) {
        throw Databases.failure(run.target, e);
      }
    }
    return new ChangedVerification(
        report, totals.chunks.get(), totals.chunksRechecked.get(), totals.rowsRechecked.get(), totals.keysRechecked.get());
  }

  /** The tables' re-checks, {@code jobs} at once, each worker with its own connections. */
  private void recheckInParallel(
      Run run, ActivityExecutionContext context, List<Catalog.Table> work, Map<Catalog.Table, List<Catalog.KeyColumn>> keys,
      Map<Catalog.Table, Long> estimates, Set<Catalog.Table> onSource, Set<Catalog.Table> onTarget,
      Map<Catalog.Table, String> methods, Totals totals, List<TableComparison> tables) {
    ConcurrentLinkedQueue<Catalog.Table> queue = new ConcurrentLinkedQueue<>(work);
    List<Prover> provers = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(settings.jobs(), r -> new Thread(r, "ferry-verify-changed"));
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < settings.jobs(); i++) {
        workers.add(
            pool.submit(
                () -> {
                  Catalog.Table table;
                  Prover p = null;
                  try {
                    while ((table = queue.poll()) != null) {
                      if (p == null) {
                        p = run.prover(true, () -> {});
                        provers.add(p);
                      }
                      tables.add(
                          recheck(run, p, table, keys.getOrDefault(table, List.of()), estimates.getOrDefault(table, 0L),
                              onSource.contains(table), onTarget.contains(table), methods, totals));
                      totals.tablesDone.incrementAndGet();
                    }
                  } finally {
                    if (p != null) {
                      p.close();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> worker : workers) {
        awaitWorker(worker, context, totals);
      }
    } catch (RuntimeException e) {
      provers.forEach(Prover::cancel);
      throw e;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * One table at the frozen point: its chunks without a proof compared in full, its changed keys
   * row by row; the rest stands proven.
   */
  private TableComparison recheck(
      Run run, Prover p, Catalog.Table table, List<Catalog.KeyColumn> key, long estimate, boolean onSource, boolean onTarget,
      Map<Catalog.Table, String> methods, Totals totals) {
    try {
      Connection target = p.targetControl;
      if (!onSource || !onTarget) {
        long sourceRows = onSource ? ChunkChecksum.sum(p.sourceControl, table, List.of(), null, null).rows() : -1;
        long targetRows = onTarget ? ChunkChecksum.sum(target, table, List.of(), null, null).rows() : -1;
        return TableComparison.oneSided(table.display(), sourceRows, targetRows);
      }
      if (!run.ledger.planned(target, table)) {
        ChunkPlan plan = ChunkPlan.of(p.sourceControl, target, table, key, estimate);
        run.ledger.plan(target, table, plan.method(), estimate, plan.uppers());
        totals.chunks.addAndGet(plan.uppers().size() + 1);
        methods.put(table, plan.method());
      }
      Prover.KeyedTable kt = new Prover.KeyedTable(table, key);
      List<ChunkMismatch> mismatches = new ArrayList<>();
      int differing = 0;
      long sourceRows = 0;
      long targetRows = 0;
      List<VerifyLedger.Chunk> unproven = run.ledger.chunks(target, table, true, Integer.MAX_VALUE);
      for (int i = 0; i < unproven.size(); i += settings.chunksPerCheck()) {
        List<VerifyLedger.Chunk> group = unproven.subList(i, Math.min(unproven.size(), i + settings.chunksPerCheck()));
        List<Prover.Result> results = p.proveChunks(kt, group);
        for (int j = 0; j < group.size(); j++) {
          Prover.Result r = results.get(j);
          totals.chunksRechecked.incrementAndGet();
          totals.rowsRechecked.addAndGet(r.sourceRows());
          if (r.verdict() != Prover.Verdict.PROVEN) {
            differing++;
            sourceRows += r.sourceRows();
            targetRows += r.targetRows();
            if (mismatches.size() < TableComparison.MAX_CHUNKS_NAMED) {
              VerifyLedger.Chunk c = group.get(j);
              mismatches.add(new ChunkMismatch(ChunkChecksum.describe(key, c.lower(), c.upper()), r.sourceRows(), r.targetRows()));
            }
          }
        }
      }
      if (!key.isEmpty()) {
        List<String> after = null;
        while (true) {
          List<List<String>> pending = run.ledger.pendingKeysAfter(target, table, after, settings.keysPerCheck());
          if (pending.isEmpty()) {
            break;
          }
          Prover.Result r = p.proveKeys(kt, pending);
          totals.keysRechecked.addAndGet(pending.size());
          for (List<String> k : r.differingKeys()) {
            differing++;
            if (mismatches.size() < TableComparison.MAX_CHUNKS_NAMED) {
              mismatches.add(new ChunkMismatch(Prover.describeKey(key, k), -1, -1));
            }
          }
          after = pending.get(pending.size() - 1);
        }
      }
      List<VerifyLedger.Chunk> chunks = run.ledger.chunks(target, table, false, Integer.MAX_VALUE);
      for (VerifyLedger.Chunk c : chunks) {
        if (c.proven()) {
          sourceRows += c.rows();
          targetRows += c.rows();
        }
      }
      String method = methods.getOrDefault(table, "primary key range");
      return new TableComparison(
          table.display(), sourceRows, targetRows, method + ", pre-verified", chunks.size(), differing, List.copyOf(mismatches),
          differing == 0);
    } catch (SQLException e) {
      throw Databases.failure(run.target, e);
    }
  }

  // ---- teardown -------------------------------------------------------------------------------

  @Override
  public void dropPreverification(PreverifyRequest request) {
    Run run = new Run(request, Activity.getExecutionContext());
    try (Connection t = databases.connect(run.target, APPLICATION_NAME)) {
      if (run.ledger.exists(t)) {
        TargetWriteCapture.remove(t, run.ledger);
      }
      run.ledger.drop(t);
    } catch (SQLException e) {
      throw Databases.failure(run.target, e);
    } catch (ApplicationFailure e) {
      // A target database that no longer exists holds no bookkeeping.
      if (!Errors.DATABASE_NOT_FOUND.equals(e.getType())) {
        throw e;
      }
    }
    try (Connection s = databases.connect(run.source, APPLICATION_NAME)) {
      try (Statement st = s.createStatement()) {
        // At decommission the source is frozen: new sessions start read-only.
        st.execute("SET default_transaction_read_only = off");
      }
      run.feed.remove(s);
    } catch (SQLException e) {
      throw Databases.failure(run.source, e);
    } catch (ApplicationFailure e) {
      if (!Errors.DATABASE_NOT_FOUND.equals(e.getType())) {
        throw e;
      }
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** Every table with rows on this side, and its primary key (empty: none). */
  private static Map<Catalog.Table, List<Catalog.KeyColumn>> keyedTables(Connection source) throws SQLException {
    Map<Catalog.Table, List<Catalog.KeyColumn>> primaryKeys = Catalog.primaryKeys(source);
    Map<Catalog.Table, List<Catalog.KeyColumn>> keys = new java.util.TreeMap<>();
    for (Catalog.Table t : Catalog.tablesWithRows(source)) {
      keys.put(t, primaryKeys.getOrDefault(t, List.of()));
    }
    return keys;
  }

  /** One call's resolved endpoints, ledger and feed. */
  private final class Run {
    final ActivityExecutionContext context;
    final Endpoint source;
    final Endpoint target;
    final VerifyLedger ledger;
    final ChangeFeed feed;
    final String applicationName;

    Run(PreverifyRequest request, ActivityExecutionContext context) {
      this.context = context;
      source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
      target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
      ledger = VerifyLedger.of(request.idempotencyKey());
      feed = request.sync() == null ? ChangeFeed.FROZEN : feeds.of(request.sync(), ledger.schema());
      String name = APPLICATION_NAME + "-" + context.getInfo().getWorkflowId();
      applicationName = name.length() > 63 ? name.substring(0, 63) : name;
    }

    Prover prover(boolean frozen, Runnable tick) {
      return new Prover(databases, source, target, applicationName, ledger, feed, frozen, settings.pause(), settings.waitLimit(), tick);
    }
  }

  /** What the final verify has done so far, shared by its workers. */
  private static final class Totals {
    final AtomicLong chunks = new AtomicLong();
    final AtomicLong chunksRechecked = new AtomicLong();
    final AtomicLong rowsRechecked = new AtomicLong();
    final AtomicLong keysRechecked = new AtomicLong();
    final AtomicLong tablesDone = new AtomicLong();

    Progress progress() {
      return Progress.of(tablesDone.get(), 0, 0, chunksRechecked.get() + " chunk(s) and " + keysRechecked.get() + " changed row(s) re-checked");
    }
  }

  private static void awaitWorker(Future<?> worker, ActivityExecutionContext context, Totals totals) {
    while (true) {
      try {
        worker.get(ToolRun.TICK.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException stillWorking) {
        context.heartbeat(totals.progress());
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }
}

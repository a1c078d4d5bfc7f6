package dev.ferry.activities.postgres;

import dev.ferry.activities.Pause;
import dev.ferry.activity.PreverifyActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
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
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification before the freeze ({@link PreverifyActivities}): proofs kept on the target in a
 * {@link VerifyLedger}, compared by a {@link Prover}, the source's changes told by the sync's
 * {@link ChangeFeed}, writes to the target outside the sync by {@link TargetWriteCapture}; at the
 * freeze, {@link FinalRecheck} compares what has no standing proof.
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
        new Settings(0.1, Duration.ofSeconds(20), Duration.ofSeconds(1), 20_000, 4, 3, 2, Pause.SLEEP);
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
    try (Prover prover = run.prover(() -> context.heartbeat(progress[0]))) {
      Map<Catalog.Table, List<Catalog.KeyColumn>> keys = setUp(run, prover, progress);
      long nextCoverage = 0;
      while (true) {
        boolean worked = false;
        long busySince = System.nanoTime();
        prover.fold(null);
        run.ledger.withdrawProofsOfWholeTableChanges(prover.targetControl);
        // Changed keys first: re-checked rows keep the proofs of their chunks standing. Not those
        // of a table still being proven: its chunks' proofs will hold them.
        Set<Catalog.Table> unprovenTables = new HashSet<>(run.ledger.tablesWithUnprovenChunks(prover.targetControl, Integer.MAX_VALUE));
        for (Catalog.Table t : run.ledger.tablesWithPending(prover.targetControl, Integer.MAX_VALUE)) {
          if (unprovenTables.contains(t)) {
            continue;
          }
          List<Catalog.KeyColumn> key = keys.get(t);
          List<List<String>> pending;
          if (key == null || key.isEmpty() || (pending = run.ledger.pendingKeys(prover.targetControl, t, settings.keysPerCheck())).isEmpty()) {
            continue;
          }
          Prover.Result r = prover.proveKeys(new Prover.KeyedTable(t, key), pending);
          worked = true;
          strike(run, t, key, r, keyStrikes);
          rest(prover, busySince, context, progress[0]);
          busySince = System.nanoTime();
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
          rest(prover, busySince, context, progress[0]);
          busySince = System.nanoTime();
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
    run.ledger.create(target, run.context.getInfo().getWorkflowId());
    TargetWriteCapture.installFunction(target, run.ledger);
    TargetWriteCapture.install(target, run.ledger, keys);
    run.feed.install(source, target);
    run.feed.forgetEarlier(source, target);
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

  /**
   * Rests so that the work since {@code since} (every moment not asleep counts: queries on both
   * sides, the ledger, this JVM) takes at most {@code share} of the time.
   */
  private void rest(Prover prover, long since, ActivityExecutionContext context, Progress progress) {
    long elapsed = System.nanoTime() - since;
    long busy = elapsed - prover.takeSlept();
    long rest = (long) (busy / settings.share()) - elapsed;
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
    ChangedVerification result;
    try (FinalRecheck recheck =
        new FinalRecheck(databases, run.source, run.target, run.applicationName, run.ledger, run.feed, settings.keysPerCheck())) {
      if (!recheck.planned()) {
        result = null;
      } else {
        result = recheck.run(table -> context.heartbeat(Progress.of(0, 0, 0, "re-checking " + table)));
        if (result.report().mismatches() == 0) {
          // The target is about to take the app's writes: the capture stops recording from now on.
          recheck.silenceTargetCapture();
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(run.target, e);
    }
    if (result == null) {
      // Never planned (the pre-verification failed before its plan): verify everything.
      log.info("no pre-verification in {}: verifying everything", run.ledger.schema());
      VerificationReport full = new VerifyActivitiesImpl(databases).verifyDatabases(new VerifyRequest(request.databases(), settings.jobs()));
      // From the totals: the report names at most VerificationReport.MAX_LISTED tables.
      long chunks = full.totals().chunks();
      long rows = full.rowsOnSource();
      return new ChangedVerification(full, chunks, chunks, rows, 0);
    }
    return result;
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
    // At decommission the source is frozen (read-only, and its write fence refuses DDL where
    // Ferry's credential is a superuser): dropping the key capture's publication needs the run's key.
    try (Connection s = databases.connectPastFence(run.source, APPLICATION_NAME, run.context.getInfo().getWorkflowId())) {
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

    Prover prover(Runnable tick) {
      return new Prover(databases, source, target, applicationName, ledger, feed, settings.pause(), settings.waitLimit(), tick);
    }
  }
}

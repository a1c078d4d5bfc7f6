package dev.ferry.activities.postgres;

import dev.ferry.activities.postgres.ChangeFeed.ChangedKey;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.verify.ChangedVerification;
import io.temporal.activity.Activity;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.postgresql.PGConnection;

/**
 * The final verify of a pre-verified run, the source frozen and the sync drained: nothing moves
 * on either side, so there are no snapshots to pair and nothing in flight. It reads the captured
 * changes (without consuming them: the source takes no write), then compares, both sides at once
 * on one connection each, the chunks without a standing proof and the changed rows, and the
 * sequences, schema and large objects in full. What stands proven costs one query over the ledger,
 * whatever the number of tables: this runs inside the write downtime.
 */
final class FinalRecheck implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FinalRecheck.class);
  private final Endpoint sourceEndpoint;
  private final Endpoint targetEndpoint;
  private final Connection source;
  private final Connection target;
  private final VerifyLedger ledger;
  private final ChangeFeed feed;
  private final int keysPerCheck;
  /** One thread per side, so the two sides are asked at the same time. */
  private final ExecutorService sides = Executors.newFixedThreadPool(2, r -> new Thread(r, "ferry-final-verify"));

  private long chunks;
  private long chunksRechecked;
  private long rowsRechecked;
  private long keysRechecked;

  FinalRecheck(Databases databases, Endpoint source, Endpoint target, String applicationName, VerifyLedger ledger, ChangeFeed feed, int keysPerCheck) {
    this.sourceEndpoint = source;
    this.targetEndpoint = target;
    this.ledger = ledger;
    this.feed = feed;
    this.keysPerCheck = keysPerCheck;
    Connection[] opened = new Connection[2];
    try {
      both(() -> opened[0] = open(databases, source, applicationName), () -> opened[1] = open(databases, target, applicationName));
    } catch (RuntimeException e) {
      closeQuietly(opened[0]);
      closeQuietly(opened[1]);
      sides.shutdownNow();
      throw e;
    }
    this.source = opened[0];
    this.target = opened[1];
  }

  /** The target is about to take the app's writes: its capture records nothing from now on. */
  void silenceTargetCapture() throws SQLException {
    TargetWriteCapture.silence(target, ledger);
  }

  /** Whether the pre-verification planned its chunks (else nothing is proven: verify everything). */
  boolean planned() throws SQLException {
    return ledger.exists(target) && ledger.state(target, "planned").isPresent();
  }

  /** Compares what has no standing proof; {@code progress} is told as tables are done. */
  ChangedVerification run(Consumer<String> progress) throws SQLException {
    long t0 = System.nanoTime();
    Facts s = new Facts();
    Facts t = new Facts();
    List<ChangedKey> changed = new ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<Map<Catalog.Table, VerifyLedger.TableTotals>> totals =
        new java.util.concurrent.atomic.AtomicReference<>();
    both(
        () -> {
          s.read(source);
          s.keys = Catalog.primaryKeys(source);
          s.estimates = Catalog.rowEstimates(source);
          changed.addAll(feed.unappliedAfter(source, null));
        },
        () -> {
          t.read(target);
          totals.set(ledger.totals(target));
        });
    // Everything captured up to the freeze, read, not consumed: the source stays untouched.
    changed.addAll(feed.take(source, target, false, Integer.MAX_VALUE).keys());
    long read = System.nanoTime();
    ledger.addPending(target, changed);
    if (ledger.withdrawProofsOfWholeTableChanges(target) > 0) {
      totals.set(ledger.totals(target));
    }
    Map<Catalog.Table, List<List<String>>> pending = ledger.allPendingKeys(target);
    totals.get().values().forEach(x -> chunks += x.chunks());

    Set<Catalog.Table> all = new TreeSet<>(s.tables);
    all.addAll(t.tables);
    List<TableComparison> tables = new ArrayList<>();
    for (Catalog.Table table : all) {
      VerifyLedger.TableTotals planned = totals.get().get(table);
      boolean onBoth = s.tables.contains(table) && t.tables.contains(table);
      if (planned != null && onBoth && planned.unproven() == 0 && !pending.containsKey(table)) {
        tables.add(
            new TableComparison(
                table.display(), planned.provenRows(), planned.provenRows(), planned.method() + ", pre-verified",
                (int) planned.chunks(), 0, List.of(), true));
        continue;
      }
      tables.add(recheck(table, s, t, planned, pending.getOrDefault(table, List.of())));
      progress.accept(table.display());
    }
    TableComparison largeObjects = VerifyActivitiesImpl.compareLargeObjects(s.largeObjects, t.largeObjects);
    if (largeObjects != null) {
      tables.add(largeObjects);
    }
    tables.sort(Comparator.comparing(TableComparison::table));
    log.info(
        "final verify: {} changed row(s) and {} chunk(s) re-checked in {} ms (reading both sides {} ms, the ledger and the"
            + " re-checks {} ms)",
        keysRechecked, chunksRechecked, (System.nanoTime() - t0) / 1_000_000, (read - t0) / 1_000_000,
        (System.nanoTime() - read) / 1_000_000);
    List<SequenceComparison> sequences = VerifyActivitiesImpl.compareSequences(s.sequences, t.sequences);
    List<SchemaDifference> schema = SchemaComparison.differences(s.schema, t.schema);
    // The report names at most VerificationReport.MAX_LISTED of each: the log names them all.
    tables.stream().filter(c -> !c.matches()).forEach(c -> log.warn("final verify: {} differs: {}", c.table(), c));
    sequences.stream().filter(c -> !c.matches()).forEach(c -> log.warn("final verify: sequence differs: {}", c));
    return new ChangedVerification(
        VerificationReport.of(tables, sequences, schema, "the worker's log names every table and sequence that differs"),
        chunks, chunksRechecked, rowsRechecked, keysRechecked);
  }

  /** One table with something to compare: its unproven chunks in full, its changed rows one by one. */
  private TableComparison recheck(
      Catalog.Table table, Facts s, Facts t, VerifyLedger.TableTotals planned, List<List<String>> changedKeys) throws SQLException {
    if (!s.tables.contains(table) || !t.tables.contains(table)) {
      long[] rows = new long[] {-1, -1};
      both(
          () -> rows[0] = s.tables.contains(table) ? ChunkChecksum.sum(source, table, List.of(), null, null).rows() : -1,
          () -> rows[1] = t.tables.contains(table) ? ChunkChecksum.sum(target, table, List.of(), null, null).rows() : -1);
      return TableComparison.oneSided(table.display(), rows[0], rows[1]);
    }
    List<Catalog.KeyColumn> key = s.keys.getOrDefault(table, List.of());
    String method;
    long provenRows;
    if (planned == null) {
      // A table the plan did not see: split it now, every chunk unproven.
      long estimate = s.estimates.getOrDefault(table, 0L);
      ChunkPlan plan = ChunkPlan.of(source, target, table, key, estimate);
      ledger.plan(target, table, plan.method(), estimate, plan.uppers());
      chunks += plan.uppers().size() + 1;
      method = plan.method();
      provenRows = 0;
    } else {
      method = planned.method();
      provenRows = planned.provenRows();
    }
    List<ChunkMismatch> mismatches = new ArrayList<>();
    int differing = 0;
    long sourceRows = provenRows;
    long targetRows = provenRows;
    int chunkCount = 0;
    for (VerifyLedger.Chunk c : ledger.chunks(target, table, false, Integer.MAX_VALUE)) {
      chunkCount++;
      if (c.proven()) {
        continue;
      }
      ChunkChecksum.Sum[] sums = new ChunkChecksum.Sum[2];
      both(
          () -> sums[0] = ChunkChecksum.sum(source, table, key, c.lower(), c.upper()),
          () -> sums[1] = ChunkChecksum.sum(target, table, key, c.lower(), c.upper()));
      chunksRechecked++;
      rowsRechecked += sums[0].rows();
      sourceRows += sums[0].rows();
      targetRows += sums[1].rows();
      if (sums[0].rows() != sums[1].rows() || sums[0].hash().compareTo(sums[1].hash()) != 0) {
        differing++;
        if (mismatches.size() < TableComparison.MAX_CHUNKS_NAMED) {
          mismatches.add(new ChunkMismatch(ChunkChecksum.describe(key, c.lower(), c.upper()), sums[0].rows(), sums[1].rows()));
        }
      }
    }
    if (!key.isEmpty()) {
      for (int i = 0; i < changedKeys.size(); i += keysPerCheck) {
        List<List<String>> batch = changedKeys.subList(i, Math.min(changedKeys.size(), i + keysPerCheck));
        List<Map<Integer, Long>> hashes = new ArrayList<>(List.of(Map.of(), Map.of()));
        both(
            () -> hashes.set(0, ChunkChecksum.hashesOf(source, table, key, batch)),
            () -> hashes.set(1, ChunkChecksum.hashesOf(target, table, key, batch)));
        keysRechecked += batch.size();
        for (int k = 0; k < batch.size(); k++) {
          if (!Objects.equals(hashes.get(0).get(k), hashes.get(1).get(k))) {
            differing++;
            if (mismatches.size() < TableComparison.MAX_CHUNKS_NAMED) {
              mismatches.add(
                  new ChunkMismatch(
                      Prover.describeKey(key, batch.get(k)), hashes.get(0).containsKey(k) ? 1 : 0, hashes.get(1).containsKey(k) ? 1 : 0));
            }
          }
        }
      }
    }
    return new TableComparison(
        table.display(), sourceRows, targetRows, method + ", pre-verified", chunkCount, differing, List.copyOf(mismatches), differing == 0);
  }

  /** What the final verify reads of each side in full. */
  private static final class Facts {
    Map<String, Map<String, String>> schema;
    Map<String, Sequences.State> sequences;
    ChunkChecksum.Sum largeObjects;
    Set<Catalog.Table> tables;
    Map<Catalog.Table, List<Catalog.KeyColumn>> keys;
    Map<Catalog.Table, Long> estimates;

    void read(Connection c) throws SQLException {
      schema = SchemaComparison.read(c);
      sequences = Sequences.read(c);
      largeObjects = ChunkChecksum.largeObjects(c);
      tables = new TreeSet<>(Catalog.tablesWithRows(c));
    }
  }

  private interface Work {
    void run() throws SQLException;
  }

  /** Runs the two sides' work at once; the first failure is thrown, naming its side. */
  private void both(Work onSource, Work onTarget) {
    Future<?> s = sides.submit(() -> call(onSource, sourceEndpoint));
    Future<?> t = sides.submit(() -> call(onTarget, targetEndpoint));
    for (Future<?> f : List.of(s, t)) {
      try {
        f.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancel();
        throw Activity.wrap(e);
      }
    }
  }

  private static Void call(Work work, Endpoint side) {
    try {
      work.run();
      return null;
    } catch (SQLException e) {
      throw Databases.failure(side, e);
    }
  }

  private static Connection open(Databases databases, Endpoint endpoint, String applicationName) throws SQLException {
    Connection c = databases.connect(endpoint, applicationName);
    try {
      ChunkChecksum.prepareSession(c);
      return c;
    } catch (SQLException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /** Cancels what runs on both sides (a cancelled activity must stop loading the databases). */
  void cancel() {
    for (Connection c : new Connection[] {source, target}) {
      try {
        if (c != null) {
          c.unwrap(PGConnection.class).cancelQuery();
        }
      } catch (SQLException ignored) {
        // Nothing running, or gone.
      }
    }
  }

  @Override
  public void close() {
    sides.shutdownNow();
    closeQuietly(source);
    closeQuietly(target);
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // The server ends the session when the socket goes.
      }
    }
  }
}

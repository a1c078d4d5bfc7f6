package dev.ferry.activities.postgres;

import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Progress;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyCheckpoint;
import dev.ferry.model.database.VerifyCheckpoint.TableCursor;
import dev.ferry.model.database.VerifyRequest;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
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
import org.postgresql.PGConnection;

/**
 * Verifies the target against the source: schema, sequences, large objects, then every table
 * chunk by chunk, {@code jobs} tables at once, each chunk's checksum computed on both sides at
 * the same time. Heartbeats a checkpoint after every chunk; a retry resumes from it. Cancelling
 * the activity cancels the queries running on both servers.
 */
public class VerifyActivitiesImpl implements VerifyActivities {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VerifyActivitiesImpl.class);
  private static final String APPLICATION_NAME = "ferry-verify";
  private static final long TICK_MILLIS = ToolRun.TICK.toMillis();
  /** Chunks of an integer key at most, however sparse the key. */
  private static final long MAX_INTEGER_CHUNKS = 10_000;
  static final String LARGE_OBJECTS = "(large objects)";

  private final Databases databases;
  private final VerificationDetails details;

  /** Without a run ledger: the worker's log names what differs. */
  public VerifyActivitiesImpl(Databases databases) {
    this(databases, VerificationDetails.log());
  }

  /** @param details where the comparison of every table and sequence is kept (the run ledger) */
  public VerifyActivitiesImpl(Databases databases, VerificationDetails details) {
    this.databases = databases;
    this.details = details;
  }

  @Override
  public VerificationReport verifyDatabases(VerifyRequest request) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Endpoint source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    VerifyCheckpoint resumed = context.getHeartbeatDetails(Progress.class).map(Progress::checkpoint).orElse(null);
    int jobs = Math.max(1, request.jobs() == null ? Runtime.getRuntime().availableProcessors() : request.jobs());
    Recorder recorder =
        new Recorder(new VerificationDetails.Verification(context.getInfo().getWorkflowId(), context.getInfo().getActivityId()));

    List<Side> open = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2 * jobs, r -> new Thread(r, "ferry-verify"));
    Catalogs catalogs;
    Overview overview;
    VerificationTally tally;
    try {
      // Reading the catalogs waits for an app's exclusive lock on a table (pg_get_indexdef
      // does), so it heartbeats like the comparison: a wait is not mistaken for a dead worker.
      // Until the tables are known it heartbeats the last attempt's checkpoint unchanged.
      Future<Overview> read = pool.submit(() -> readOverview(source, target, open));
      await(read, context, () -> new Progress(0, 0, 0, null, resumed));
      overview = get(read);
      catalogs = overview.catalogs();
      List<String> names = catalogs.all.stream().map(Catalog.Table::display).toList();
      tally = new VerificationTally(names, names.size() + (overview.largeObjects() == null ? 0 : 1), resumed);
      recorder.run(d -> d.begin(recorder.verification));

      List<Catalog.Table> work = new ArrayList<>(catalogs.all);
      // The biggest tables first, so one is not left running alone at the end.
      work.sort(Comparator.comparingLong((Catalog.Table table) -> -catalogs.estimate(table)).thenComparing(table -> table));
      ConcurrentLinkedQueue<Catalog.Table> queue = new ConcurrentLinkedQueue<>(work);
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        VerificationTally shared = tally;
        workers.add(pool.submit(() -> compareTables(queue, catalogs, shared, source, target, open, pool)));
      }
      for (Future<?> worker : workers) {
        VerificationTally shared = tally;
        await(worker, context, () -> recorder.checkpoint(shared));
      }
    } catch (Exception e) {
      // Cancelled, timed out or failed: stop the queries, they load production.
      open.forEach(Side::cancel);
      throw e instanceof RuntimeException r ? r : Activity.wrap(e);
    } finally {
      pool.shutdownNow();
      open.forEach(Side::close);
    }
    context.heartbeat(recorder.checkpoint(tally));
    TableComparison largeObjects = overview.largeObjects();
    List<SequenceComparison> sequences = overview.sequences();
    List<SchemaDifference> schema = overview.schema();
    if (largeObjects != null) {
      recorder.run(d -> d.tables(recorder.verification, List.of(largeObjects)));
      tally.countExtra(largeObjects);
    }
    recorder.run(d -> d.sequences(recorder.verification, sequences));
    recorder.run(d -> d.schema(recorder.verification, schema));

    VerificationReport.Totals totals =
        tally.totals(
            sequences.size(),
            (int) sequences.stream().filter(q -> !q.matches()).count(),
            (int) sequences.stream().filter(VerificationReport::oneSided).count(),
            schema.size(),
            recorder.where());
    VerificationReport report =
        VerificationReport.of(
            totals,
            tally.named(),
            VerificationReport.bounded(sequences, SequenceComparison::matches, SequenceComparison::sequence),
            schema.subList(0, Math.min(schema.size(), VerificationReport.MAX_LISTED)));
    recorder.run(d -> d.finish(recorder.verification, report.mismatches()));
    return report;
  }

  /**
   * Hands comparisons to {@link VerificationDetails}; a call that fails (the ledger down) is
   * logged and the verification goes on: its report then says the detail is incomplete.
   */
  private final class Recorder {
    final VerificationDetails.Verification verification;
    private volatile String failure;

    Recorder(VerificationDetails.Verification verification) {
      this.verification = verification;
    }

    void run(java.util.function.Consumer<VerificationDetails> call) {
      try {
        call.accept(details);
      } catch (RuntimeException e) {
        if (failure == null) {
          log.warn("verification {} of {}: could not record its detail ({}); it goes on without", verification.activityId(),
              verification.runId(), e.toString());
        }
        failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      }
    }

    /** Records the tables finished since the last call, then counts them: the checkpoint to heartbeat. */
    Progress checkpoint(VerificationTally tally) {
      List<TableComparison> finished = tally.takePending();
      if (!finished.isEmpty()) {
        run(d -> d.tables(verification, finished));
      }
      tally.count(finished);
      return tally.progress();
    }

    String where() {
      String where = details.where(verification);
      return failure == null ? where : where + " (incomplete: recording failed: " + failure + ")";
    }
  }

  /** One worker: takes tables off the queue until it is empty, with its own connection pair. */
  private Void compareTables(
      ConcurrentLinkedQueue<Catalog.Table> queue,
      Catalogs catalogs,
      VerificationTally checkpoint,
      Endpoint source,
      Endpoint target,
      List<Side> open,
      ExecutorService pool)
      throws Exception {
    Side s = null;
    Side t = null;
    Catalog.Table table;
    while ((table = queue.poll()) != null) {
      if (checkpoint.isDone(table.display())) {
        continue;
      }
      if (s == null) {
        s = new Side(source);
        open.add(s);
        t = new Side(target);
        open.add(t);
      }
      checkpoint.finish(compareTable(table, catalogs, checkpoint, s, t, pool));
    }
    return null;
  }

  private TableComparison compareTable(
      Catalog.Table table, Catalogs catalogs, VerificationTally checkpoint, Side s, Side t, ExecutorService pool)
      throws Exception {
    String name = table.display();
    boolean onSource = catalogs.source.contains(table);
    boolean onTarget = catalogs.target.contains(table);
    if (!onSource || !onTarget) {
      long sourceRows = onSource ? s.call(c -> ChunkChecksum.sum(c, table, List.of(), null, null).rows()) : -1;
      long targetRows = onTarget ? t.call(c -> ChunkChecksum.sum(c, table, List.of(), null, null).rows()) : -1;
      return TableComparison.oneSided(name, sourceRows, targetRows);
    }
    List<Catalog.KeyColumn> key = catalogs.keys.getOrDefault(table, List.of());
    Chunker chunker = chunker(table, key, catalogs.estimate(table), s, t);
    TableCursor cursor = checkpoint.cursor(name);
    List<String> lower = cursor.lastKey();
    while (true) {
      List<String> upper = chunker.upperAfter(lower);
      List<String> from = lower;
      Future<ChunkChecksum.Sum> onTargetSide = pool.submit(() -> t.call(c -> ChunkChecksum.sum(c, table, key, from, upper)));
      ChunkChecksum.Sum sourceSum = s.call(c -> ChunkChecksum.sum(c, table, key, from, upper));
      ChunkChecksum.Sum targetSum = get(onTargetSide);
      boolean same = sourceSum.rows() == targetSum.rows() && sourceSum.hash().compareTo(targetSum.hash()) == 0;
      List<ChunkMismatch> mismatches = new ArrayList<>(cursor.mismatchedChunks());
      if (!same && mismatches.size() < TableComparison.MAX_CHUNKS_NAMED) {
        mismatches.add(new ChunkMismatch(ChunkChecksum.describe(key, from, upper), sourceSum.rows(), targetSum.rows()));
      }
      cursor =
          new TableCursor(
              name,
              upper,
              cursor.chunks() + 1,
              cursor.sourceRows() + sourceSum.rows(),
              cursor.targetRows() + targetSum.rows(),
              cursor.differingChunks() + (same ? 0 : 1),
              List.copyOf(mismatches));
      if (upper == null) {
        return new TableComparison(
            name,
            cursor.sourceRows(),
            cursor.targetRows(),
            chunker.method(),
            cursor.chunks(),
            cursor.differingChunks(),
            cursor.mismatchedChunks(),
            cursor.differingChunks() == 0);
      }
      checkpoint.advance(cursor);
      lower = upper;
    }
  }

  /** Where each chunk of a table ends. */
  private interface Chunker {
    /** The upper key of the chunk after {@code lower}; {@code null} for the last, open-ended one. */
    List<String> upperAfter(List<String> lower) throws SQLException;

    String method();
  }

  private Chunker chunker(Catalog.Table table, List<Catalog.KeyColumn> key, long estimate, Side s, Side t)
      throws SQLException {
    if (key.isEmpty()) {
      return new Chunker() {
        @Override
        public List<String> upperAfter(List<String> lower) {
          return null;
        }

        @Override
        public String method() {
          return "whole table";
        }
      };
    }
    if (key.size() == 1 && key.get(0).isInteger()) {
      long[] sb = s.call(c -> ChunkChecksum.integerBounds(c, table, key.get(0)));
      long[] tb = t.call(c -> ChunkChecksum.integerBounds(c, table, key.get(0)));
      long min = Math.min(sb == null ? Long.MAX_VALUE : sb[0], tb == null ? Long.MAX_VALUE : tb[0]);
      long max = Math.max(sb == null ? Long.MIN_VALUE : sb[1], tb == null ? Long.MIN_VALUE : tb[1]);
      double span = (double) max - (double) min + 1;
      long chunks = Math.max(1, estimate / ChunkChecksum.CHUNK_ROWS);
      long width = (long) Math.max(ChunkChecksum.CHUNK_ROWS, Math.ceil(Math.max(span / chunks, span / MAX_INTEGER_CHUNKS)));
      return new Chunker() {
        @Override
        public List<String> upperAfter(List<String> lower) {
          if (min > max) {
            return null; // both sides empty
          }
          long from = lower == null ? min - 1 : Long.parseLong(lower.get(0));
          long upper = from + width;
          return upper < from || upper >= max ? null : List.of(Long.toString(upper));
        }

        @Override
        public String method() {
          return "primary key range";
        }
      };
    }
    return new Chunker() {
      @Override
      public List<String> upperAfter(List<String> lower) throws SQLException {
        return s.call(c -> ChunkChecksum.nextUpper(c, table, key, lower));
      }

      @Override
      public String method() {
        return "primary key order";
      }
    };
  }

  static List<SequenceComparison> compareSequences(
      Map<String, Sequences.State> source, Map<String, Sequences.State> target) {
    Set<String> names = new TreeSet<>(source.keySet());
    names.addAll(target.keySet());
    List<SequenceComparison> result = new ArrayList<>();
    for (String name : names) {
      Sequences.State s = source.get(name);
      Sequences.State t = target.get(name);
      result.add(
          new SequenceComparison(
              name,
              s == null ? null : s.next(),
              t == null ? null : t.next(),
              s != null && t != null && !t.behind(s)));
    }
    return result;
  }

  static TableComparison compareLargeObjects(ChunkChecksum.Sum s, ChunkChecksum.Sum t) {
    if (s.rows() == 0 && t.rows() == 0) {
      return null;
    }
    boolean same = s.rows() == t.rows() && s.hash().compareTo(t.hash()) == 0;
    return new TableComparison(
        LARGE_OBJECTS,
        s.rows(),
        t.rows(),
        "whole table",
        1,
        same ? 0 : 1,
        same ? List.of() : List.of(new ChunkMismatch("all large objects", s.rows(), t.rows())),
        same);
  }

  /** Waits for a worker, heartbeating meanwhile; a heartbeat throws when the activity is cancelled. */
  private static void await(Future<?> worker, ActivityExecutionContext context, java.util.function.Supplier<Progress> progress) {
    while (true) {
      try {
        worker.get(TICK_MILLIS, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException stillWorking) {
        context.heartbeat(progress.get());
      } catch (ExecutionException e) {
        throw unwrap(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }

  private static <T> T get(Future<T> future) throws Exception {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw unwrap(e);
    }
  }

  private static RuntimeException unwrap(ExecutionException e) {
    return e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
  }

  /** What is compared before the rows: schema, sequences, large objects, and the tables to compare. */
  private record Overview(
      List<SchemaDifference> schema, List<SequenceComparison> sequences, TableComparison largeObjects, Catalogs catalogs) {}

  /** Reads the {@link Overview} on a connection pair of its own, kept in {@code open} meanwhile. */
  private Overview readOverview(Endpoint source, Endpoint target, List<Side> open) {
    try (Side s = new Side(source); Side t = new Side(target)) {
      open.add(s);
      open.add(t);
      try {
        return new Overview(
            SchemaComparison.differences(s.call(SchemaComparison::read), t.call(SchemaComparison::read)),
            compareSequences(s.call(Sequences::read), t.call(Sequences::read)),
            compareLargeObjects(s.call(ChunkChecksum::largeObjects), t.call(ChunkChecksum::largeObjects)),
            new Catalogs(s, t));
      } finally {
        open.remove(s);
        open.remove(t);
      }
    }
  }

  /** The tables of both sides, their keys (from the source) and sizes. */
  private static final class Catalogs {
    final Set<Catalog.Table> source;
    final Set<Catalog.Table> target;
    final Set<Catalog.Table> all;
    final Map<Catalog.Table, List<Catalog.KeyColumn>> keys;
    final Map<Catalog.Table, Long> estimates;

    Catalogs(Side s, Side t) {
      source = new TreeSet<>(s.call(Catalog::tablesWithRows));
      target = new TreeSet<>(t.call(Catalog::tablesWithRows));
      all = new TreeSet<>(source);
      all.addAll(target);
      keys = s.call(Catalog::primaryKeys);
      estimates = s.call(Catalog::rowEstimates);
    }

    long estimate(Catalog.Table table) {
      return estimates.getOrDefault(table, 0L);
    }
  }

  /** A read-only connection to one side, with its running query cancellable. */
  private final class Side implements AutoCloseable {
    private final Endpoint endpoint;
    private final Connection connection;

    Side(Endpoint endpoint) {
      this.endpoint = endpoint;
      this.connection = databases.connect(endpoint, APPLICATION_NAME);
      try {
        connection.setReadOnly(true);
        ChunkChecksum.prepareSession(connection);
      } catch (SQLException e) {
        close();
        throw Databases.failure(endpoint, e);
      }
    }

    interface Query<T> {
      T run(Connection c) throws SQLException;
    }

    <T> T call(Query<T> query) {
      try {
        return query.run(connection);
      } catch (SQLException e) {
        throw Databases.failure(endpoint, e);
      }
    }

    void cancel() {
      try {
        connection.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException ignored) {
        // Nothing running, or the connection is gone: either way nothing loads the server.
      }
    }

    @Override
    public void close() {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // Best effort; the server ends the session when the socket goes.
      }
    }
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.Progress;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Compares the two databases table by table: exact row counts, both sides at once. Heartbeats
 * while a count runs (a big table takes minutes), cancels both counts when the activity is
 * cancelled, and resumes after the tables a previous attempt compared.
 */
public class VerifyActivitiesImpl implements VerifyActivities {
  private static final String APPLICATION_NAME = "ferry-verify";
  private static final long TICK_MILLIS = ToolRun.TICK.toMillis();

  private final Databases databases;

  public VerifyActivitiesImpl(Databases databases) {
    this.databases = databases;
  }

  @Override
  public VerificationReport compareRowCounts(DatabasePair pair) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Endpoint source = databases.resolve(Databases.SOURCE, pair.sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, pair.targetUrlRef());
    List<TableComparison> compared = new ArrayList<>(resumeFrom(context));
    Set<String> done = compared.stream().map(TableComparison::table).collect(Collectors.toSet());

    ExecutorService executor = Executors.newFixedThreadPool(2, r -> new Thread(r, "ferry-verify-side"));
    try (Side s = new Side(source); Side t = new Side(target)) {
      Set<Catalog.Table> all = new TreeSet<>(s.tables);
      all.addAll(t.tables);
      for (Catalog.Table table : all) {
        if (done.contains(table.display())) {
          continue;
        }
        Progress progress = new Progress(compared.size(), all.size(), 0, table.display(), compared);
        context.heartbeat(progress);
        Future<Long> sourceRows = executor.submit(() -> s.count(table));
        Future<Long> targetRows = executor.submit(() -> t.count(table));
        try {
          long sr = await(sourceRows, context, progress);
          long tr = await(targetRows, context, progress);
          compared.add(new TableComparison(table.display(), sr, tr, sr >= 0 && sr == tr));
        } catch (RuntimeException e) {
          // Cancelled or timed out: stop the counts, they load production.
          s.cancel();
          t.cancel();
          throw e;
        }
      }
      context.heartbeat(new Progress(compared.size(), all.size(), 0, null, compared));
    } finally {
      executor.shutdownNow();
    }
    compared.sort(Comparator.comparing(TableComparison::table));
    int mismatches = (int) compared.stream().filter(c -> !c.matches()).count();
    return new VerificationReport(List.copyOf(compared), mismatches);
  }

  /** Waits for a count, heartbeating meanwhile; a heartbeat throws when the activity is cancelled. */
  private static long await(Future<Long> count, ActivityExecutionContext context, Progress progress) {
    while (true) {
      try {
        return count.get(TICK_MILLIS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException stillCounting) {
        context.heartbeat(progress);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }

  private static List<TableComparison> resumeFrom(ActivityExecutionContext context) {
    return context
        .getHeartbeatDetails(Progress.class)
        .map(Progress::compared)
        .filter(c -> c != null)
        .orElse(List.of());
  }

  /** One database's connection, its tables, and the count running on it. */
  private final class Side implements AutoCloseable {
    private final Endpoint endpoint;
    private final Connection connection;
    private final Set<Catalog.Table> tables;
    private final AtomicReference<Statement> running = new AtomicReference<>();

    Side(Endpoint endpoint) {
      this.endpoint = endpoint;
      this.connection = databases.connect(endpoint, APPLICATION_NAME);
      try {
        connection.setReadOnly(true);
        this.tables = new HashSet<>(Catalog.tablesWithRows(connection));
      } catch (SQLException e) {
        closeQuietly();
        throw Databases.failure(endpoint, e);
      }
    }

    /** The table's rows, or -1 when this side has no such table. */
    long count(Catalog.Table table) {
      if (!tables.contains(table)) {
        return -1;
      }
      try (Statement s = connection.createStatement()) {
        running.set(s);
        try (var rs = s.executeQuery("SELECT count(*) FROM " + table.sql())) {
          rs.next();
          return rs.getLong(1);
        } finally {
          running.set(null);
        }
      } catch (SQLException e) {
        throw Databases.failure(endpoint, e);
      }
    }

    void cancel() {
      Statement s = running.get();
      if (s != null) {
        try {
          s.cancel();
        } catch (SQLException ignored) {
          // The count ended meanwhile.
        }
      }
    }

    @Override
    public void close() {
      closeQuietly();
    }

    private void closeQuietly() {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // Closing is best effort; the server ends the session when the socket goes.
      }
    }
  }
}

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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/** Compares the two databases table by table: exact row counts, both sides at once. */
public class VerifyActivitiesImpl implements VerifyActivities {
  private static final String APPLICATION_NAME = "ferry-verify";

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

    ExecutorService sides = Executors.newFixedThreadPool(2, r -> new Thread(r, "ferry-verify-side"));
    try (Connection s = databases.connect(source, APPLICATION_NAME);
        Connection t = databases.connect(target, APPLICATION_NAME)) {
      s.setReadOnly(true);
      t.setReadOnly(true);
      Set<Catalog.Table> sourceTables = new HashSet<>(Catalog.tablesWithRows(s));
      Set<Catalog.Table> targetTables = new HashSet<>(Catalog.tablesWithRows(t));
      Set<Catalog.Table> all = new TreeSet<>(sourceTables);
      all.addAll(targetTables);
      for (Catalog.Table table : all) {
        if (done.contains(table.display())) {
          continue;
        }
        context.heartbeat(new Progress(compared.size(), all.size(), 0, table.display(), compared));
        CompletableFuture<Long> sourceRows =
            count(sides, source, s, sourceTables.contains(table) ? table : null);
        CompletableFuture<Long> targetRows =
            count(sides, target, t, targetTables.contains(table) ? table : null);
        long sr = join(sourceRows);
        long tr = join(targetRows);
        compared.add(new TableComparison(table.display(), sr, tr, sr >= 0 && sr == tr));
      }
      context.heartbeat(new Progress(compared.size(), all.size(), 0, null, compared));
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    } finally {
      sides.shutdownNow();
    }
    compared.sort(Comparator.comparing(TableComparison::table));
    int mismatches = (int) compared.stream().filter(c -> !c.matches()).count();
    return new VerificationReport(List.copyOf(compared), mismatches);
  }

  private static List<TableComparison> resumeFrom(ActivityExecutionContext context) {
    return context
        .getHeartbeatDetails(Progress.class)
        .map(Progress::compared)
        .filter(c -> c != null)
        .orElse(List.of());
  }

  /** Counts a table's rows on one side; -1 when the table does not exist there. */
  private static CompletableFuture<Long> count(
      ExecutorService executor, Endpoint endpoint, Connection c, Catalog.Table table) {
    if (table == null) {
      return CompletableFuture.completedFuture(-1L);
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return Catalog.rowCount(c, table);
          } catch (SQLException e) {
            throw Databases.failure(endpoint, e);
          }
        },
        executor);
  }

  private static long join(CompletableFuture<Long> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }
}

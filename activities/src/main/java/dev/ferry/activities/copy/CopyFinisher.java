package dev.ferry.activities.copy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.DatabaseChecks;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgRestore;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.RestoreClaim;
import dev.ferry.activities.postgres.TargetStatistics;
import dev.ferry.activities.postgres.WriteFence;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The copy's last steps, once every table is copied and checked: constraints over the indexes the
 * copiers built, the rest of the schema's post-data (foreign keys, triggers, partition index
 * attachments, …) with one pg_restore, sequences, large objects, materialized views. Each step
 * records that it is done, so a retry goes on from the first one that is not; the claim on the
 * target is released in the same transaction that records the copy finished.
 */
final class CopyFinisher {
  private static final Logger log = LoggerFactory.getLogger(CopyFinisher.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LARGE_OBJECT_SLICE = 1 << 20;

  private final Databases databases;
  private final PgTools tools;
  private final Path workDir;
  private final CopyReport report;

  CopyFinisher(Databases databases, PgTools tools, Path workDir, CopyReport report) {
    this.databases = databases;
    this.tools = tools;
    this.workDir = workDir;
    this.report = report;
  }

  /**
   * The finish activity: returns what the last copier's finish recorded, or finishes now (waiting,
   * heartbeating, while a copier holds the finish).
   */
  CopyResult finish(CopyJob job) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    try (Connection book = databases.connect(job.target(), job.applicationName("finish"))) {
      while (true) {
        Optional<CopyResult> done = finished(book, job);
        if (done.isPresent()) {
          return done.get();
        }
        if (tryLock(book, job)) {
          return finishLocked(book, job, context);
        }
        context.heartbeat(null);
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Activity.wrap(e);
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
  }

  /**
   * Called by a copier that finds the copy done: finishes it at once, unless another copier
   * already is (or did). Saves the workflow the round trip to a finish activity.
   */
  void finishIfFree(CopyJob job, ActivityExecutionContext context) {
    try (Connection book = databases.connect(job.target(), job.applicationName("finish"))) {
      if (finished(book, job).isEmpty() && tryLock(book, job)) {
        finishLocked(book, job, context);
      }
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
  }

  private static Optional<CopyResult> finished(Connection book, CopyJob job) throws SQLException {
    Optional<String> finished = CopyBook.state(book, job.schema(), "finished");
    if (finished.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(finished.get(), CopyResult.class));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One finisher at a time: a lock of the session, released when it ends. */
  private static boolean tryLock(Connection book, CopyJob job) throws SQLException {
    try (PreparedStatement ps = book.prepareStatement("SELECT pg_try_advisory_lock(hashtext(?))")) {
      ps.setString(1, "ferry-copy-finish-" + job.tag());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** The report the finish computed, if it has. */
  static Optional<VerificationReport> report(Connection book, CopyJob job) throws SQLException {
    Optional<String> stored = CopyBook.state(book, job.schema(), "report");
    if (stored.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(stored.get(), VerificationReport.class));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private CopyResult finishLocked(Connection book, CopyJob job, ActivityExecutionContext context) {
    String app = job.applicationName("finish");
    String schema = job.schema();
    try {
      Optional<CopyResult> already = finished(book, job);
      if (already.isPresent()) {
        return already.get();
      }
      long t0 = System.nanoTime();
      requireAllChecked(book, job);
      addConstraints(book, job);
      log.debug("copy {}: constraints added at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      context.heartbeat(null);
      if (CopyBook.state(book, schema, "post-data").isEmpty()) {
        if (CopyBook.state(book, schema, "post-data-begun").isPresent()) {
          undoPartitionedIndexes(book, job);
        } else {
          CopyBook.putState(book, schema, "post-data-begun", "yes");
        }
        restorePostData(book, job);
        CopyBook.putState(book, schema, "post-data", "done");
      }
      log.debug("copy {}: post-data restored at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      try (Connection source = databases.connect(job.source(), app)) {
        source.setReadOnly(true);
        int sequences = DatabaseChecks.copySequences(source, book);
        log.info("copy {}: {} sequence(s) set", job.tag(), sequences);
        if (CopyBook.state(book, schema, "large-objects").isEmpty()) {
          copyLargeObjects(source, book, job);
        }
        context.heartbeat(null);
        refreshMaterializedViews(source, book, job);
      }
      log.debug("copy {}: sequences, large objects, views at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      if (CopyBook.state(book, schema, "analyzed").isEmpty()) {
        // Every index built (an expression index's statistics too) and the materialized views
        // filled; before the traffic comes.
        new TargetStatistics(tools).analyze(job.target(), job.applicationName("analyze"), job.jobs(), () -> context.heartbeat(null));
        CopyBook.putState(book, schema, "analyzed", "done");
      }
      log.debug("copy {}: analyzed at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      CopyResult result = result(book, job);
      // What the verify step shows: computed now, beside the copy, where it costs no round trip.
      VerificationReport verified = report.report(job);
      log.debug("copy {}: report at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      book.setAutoCommit(false);
      try {
        RestoreClaim.release(book);
        CopyBook.putState(book, schema, "report", JSON.writeValueAsString(verified));
        CopyBook.putState(book, schema, "finished", JSON.writeValueAsString(result));
        book.commit();
      } catch (SQLException | RuntimeException e) {
        book.rollback();
        throw e;
      } finally {
        book.setAutoCommit(true);
      }
      log.info("copy {} finished: {} tables, {} rows", job.tag(), result.tables(), result.rows());
      return result;
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void requireAllChecked(Connection book, CopyJob job) throws SQLException {
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM " + job.schema() + ".tables WHERE state <> 'checked'),"
                    + " (SELECT count(*) FROM " + job.schema() + ".indexes WHERE state <> 'built')")) {
      rs.next();
      if (rs.getLong(1) + rs.getLong(2) > 0) {
        throw ApplicationFailure.newFailure(
            "the copy is not done: " + rs.getLong(1) + " table(s) not copied and checked, " + rs.getLong(2)
                + " index(es) not built",
            Errors.STEP_FAILED);
      }
    }
  }

  /** Primary keys and unique constraints over the unique indexes the copiers built: no scan, no lock to speak of. */
  private static void addConstraints(Connection book, CopyJob job) throws SQLException {
    List<String[]> constraints = new ArrayList<>();
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT i.constraint_sql, i.name, t.nspname FROM " + job.schema() + ".indexes i JOIN " + job.schema()
                    + ".tables t ON t.id = i.table_id WHERE i.constraint_sql IS NOT NULL ORDER BY i.id")) {
      while (rs.next()) {
        constraints.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
      }
    }
    for (String[] c : constraints) {
      // Added already (a retry)? Its index then belongs to a constraint.
      try (PreparedStatement ps =
          book.prepareStatement(
              "SELECT 1 FROM pg_constraint k JOIN pg_class i ON i.oid = k.conindid JOIN pg_namespace n ON n.oid = i.relnamespace"
                  + " WHERE quote_ident(i.relname) = ? AND n.nspname = ?")) {
        ps.setString(1, c[1]);
        ps.setString(2, c[2]);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            continue;
          }
        }
      }
      try (Statement s = book.createStatement()) {
        s.execute("SELECT pg_catalog.set_config('search_path', '', false)");
        s.execute(c[0]);
        s.execute("RESET search_path");
      }
    }
  }

  /**
   * Before the post-data is restored again over an attempt that began it (and died, or failed,
   * before noting it done). pg_restore's {@code --clean} cannot take back a partitioned table's
   * index: it drops the partitions' constraints first, which PostgreSQL refuses while they are
   * attached ("cannot drop inherited constraint"), and every retry would fail the same way. So
   * each partitioned index is dropped here, from the top, its partitions' indexes with it (on this
   * claimed target only the post-data makes partitioned indexes, and the foreign keys that the
   * cascade takes are post-data too); then the partitions' indexes the copiers had built are built
   * again, for the restore to attach.
   */
  private static void undoPartitionedIndexes(Connection book, CopyJob job) throws SQLException {
    List<String> drops =
        Catalog.strings(
            book,
            "SELECT CASE WHEN k.oid IS NULL THEN format('DROP INDEX IF EXISTS %I.%I CASCADE', n.nspname, i.relname)"
                + " ELSE format('ALTER TABLE %I.%I DROP CONSTRAINT IF EXISTS %I CASCADE', n.nspname, t.relname, k.conname) END"
                + " FROM pg_catalog.pg_index x"
                + " JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
                + " JOIN pg_catalog.pg_class t ON t.oid = x.indrelid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace"
                + " LEFT JOIN pg_catalog.pg_constraint k ON k.conindid = i.oid AND k.conrelid = t.oid"
                + " WHERE i.relkind = 'I' AND NOT i.relispartition");
    if (drops.isEmpty()) {
      return;
    }
    log.info("copy {}: the post-data is restored again; {} partitioned index(es) dropped first", job.tag(), drops.size());
    try (Statement s = book.createStatement()) {
      for (String drop : drops) {
        s.execute(drop);
      }
    }
    List<String> rebuilds =
        Catalog.strings(
            book,
            "SELECT i.create_sql FROM " + job.schema() + ".indexes i JOIN " + job.schema() + ".tables t ON t.id = i.table_id"
                + " WHERE i.state = 'built' AND to_regclass(quote_ident(t.nspname) || '.' || i.name) IS NULL ORDER BY i.id");
    try (Statement s = book.createStatement()) {
      s.execute("SELECT pg_catalog.set_config('search_path', '', false)");
      for (String create : rebuilds) {
        s.execute(create);
      }
      s.execute("RESET search_path");
    }
    log.info("copy {}: {} partition index(es) built again", job.tag(), rebuilds.size());
  }

  /**
   * Everything in the schema's post-data but what the copiers built (and the trigger sync's
   * capture triggers): foreign keys, other constraints, triggers, rules, policies, partition
   * index attachments, indexes of partitioned tables. One pg_restore, {@code -j jobs}.
   */
  private void restorePostData(Connection book, CopyJob job) throws SQLException {
    Set<Integer> built = new HashSet<>();
    try (Statement s = book.createStatement();
        ResultSet rs = s.executeQuery("SELECT dump_id FROM " + job.schema() + ".indexes")) {
      while (rs.next()) {
        built.add(rs.getInt(1));
      }
    }
    Path dump = null;
    try {
      Files.createDirectories(workDir);
      dump = Files.createTempFile(workDir, "ferry-copy-" + job.tag() + "-", ".dump");
      try (Statement s = book.createStatement();
          ResultSet rs = s.executeQuery("SELECT dump FROM " + job.schema() + ".schema_dump WHERE id = 1")) {
        if (!rs.next()) {
          throw ApplicationFailure.newNonRetryableFailure(
              "the copy's schema dump is missing from its bookkeeping " + job.schema(), Errors.RESTORE_FAILED);
        }
        Files.write(dump, rs.getBytes(1));
      }
      new PgRestore(databases, tools)
          .restore(
              new PgRestore.Job(
                  job.target(), job.runKey(), job.applicationName("restore"), dump, job.jobs(), List.of("post-data"),
                  false, false,
                  line -> {
                    int semicolon = line.indexOf(';');
                    if (semicolon > 0 && line.substring(0, semicolon).chars().allMatch(Character::isDigit)
                        && built.contains(Integer.parseInt(line.substring(0, semicolon)))) {
                      return true;
                    }
                    // The capture's triggers are the sync's; the frozen source's fence is not the app's.
                    return (line.contains(" TRIGGER ") && line.contains(" ferry_capture_")) || WriteFence.isFenceEntry(line);
                  }));
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "writing the copy's schema dump into " + workDir + " failed: " + e.getMessage(), Errors.RESTORE_FAILED);
    } finally {
      if (dump != null) {
        try {
          Files.deleteIfExists(dump);
        } catch (IOException ignored) {
          // The schema only; no rows.
        }
      }
    }
  }

  /**
   * Every large object, with its oid, in one transaction on the target that also records it done:
   * a retry after a crash finds none of them or all of them.
   */
  private static void copyLargeObjects(Connection source, Connection book, CopyJob job) throws SQLException {
    List<Long> oids = new ArrayList<>();
    try (Statement s = source.createStatement();
        ResultSet rs = s.executeQuery("SELECT oid FROM pg_largeobject_metadata ORDER BY oid")) {
      while (rs.next()) {
        oids.add(rs.getLong(1));
      }
    }
    book.setAutoCommit(false);
    try (PreparedStatement create = book.prepareStatement("SELECT lo_from_bytea(?, ''::bytea)");
        PreparedStatement put = book.prepareStatement("SELECT lo_put(?, ?, ?)");
        PreparedStatement get = source.prepareStatement("SELECT lo_get(?, ?, ?)")) {
      source.setAutoCommit(false);
      for (long oid : oids) {
        create.setLong(1, oid);
        create.executeQuery().close();
        long offset = 0;
        while (true) {
          get.setLong(1, oid);
          get.setLong(2, offset);
          get.setInt(3, LARGE_OBJECT_SLICE);
          byte[] slice;
          try (ResultSet rs = get.executeQuery()) {
            rs.next();
            slice = rs.getBytes(1);
          }
          if (slice == null || slice.length == 0) {
            break;
          }
          put.setLong(1, oid);
          put.setLong(2, offset);
          put.setBytes(3, slice);
          put.executeQuery().close();
          offset += slice.length;
        }
        Activity.getExecutionContext().heartbeat(null);
      }
      source.rollback();
      source.setAutoCommit(true);
      CopyBook.putState(book, job.schema(), "large-objects", Integer.toString(oids.size()));
      book.commit();
      log.info("copy {}: {} large object(s) copied", job.tag(), oids.size());
    } catch (SQLException | RuntimeException e) {
      book.rollback();
      throw e;
    } finally {
      book.setAutoCommit(true);
    }
  }

  /**
   * Materialized views the source has populated, refreshed on the target now that their tables
   * hold data ({@code pg_dump --schema-only} creates them empty). One that reads another waits
   * for it: each round refreshes those whose inputs are ready.
   */
  private static void refreshMaterializedViews(Connection source, Connection book, CopyJob job) throws SQLException {
    List<String> views =
        Catalog.strings(
            source,
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND c.relispopulated AND"
                + Catalog.USER_RELATION_FILTER + " ORDER BY c.oid");
    List<String> left = new ArrayList<>(views);
    while (!left.isEmpty()) {
      List<String> waiting = new ArrayList<>();
      SQLException last = null;
      for (String view : left) {
        try (Statement s = book.createStatement()) {
          s.execute("REFRESH MATERIALIZED VIEW " + view);
        } catch (SQLException e) {
          if (!"55000".equals(e.getSQLState())) {
            throw e;
          }
          waiting.add(view);
          last = e;
        }
      }
      if (waiting.size() == left.size()) {
        throw last;
      }
      left = waiting;
    }
    if (!views.isEmpty()) {
      log.info("copy {}: {} materialized view(s) refreshed", job.tag(), views.size());
    }
  }

  private static CopyResult result(Connection book, CopyJob job) throws SQLException {
    String schema = job.schema();
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM " + schema + ".tables), (SELECT coalesce(sum(rows), 0) FROM " + schema + ".tables),"
                    + " (SELECT coalesce(sum(bytes), 0) FROM " + schema + ".chunks), (SELECT count(*) FROM " + schema + ".chunks),"
                    + " (SELECT coalesce(sum(recopies), 0) FROM " + schema + ".tables), (SELECT count(*) FROM " + schema + ".indexes),"
                    + " (SELECT count(DISTINCT epoch) FROM " + schema + ".chunks), (SELECT max(v) FROM " + schema
                    + ".state WHERE k = 'epoch')")) {
      rs.next();
      int epoch = Integer.parseInt(rs.getString(8));
      int snapshotsUsed = rs.getInt(7);
      String detail =
          epoch == 1
              ? "from one snapshot"
              : "snapshot lost " + (epoch - 1) + " time(s); rows kept from " + snapshotsUsed + " snapshot(s)";
      return new CopyResult(
          rs.getInt(1), rs.getLong(2), rs.getLong(3), rs.getInt(4), rs.getInt(5), rs.getInt(6), epoch, detail);
    }
  }
}

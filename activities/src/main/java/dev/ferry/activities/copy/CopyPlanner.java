package dev.ferry.activities.copy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PgRestore;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.SessionLock;
import dev.ferry.activities.postgres.ToolRun;
import dev.ferry.activities.postgres.WriteFence;
import dev.ferry.model.Errors;
import dev.ferry.model.copy.CopyPlan;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans the copy at its snapshot: the schema's pre-data restored from {@code pg_dump
 * --schema-only --snapshot}, every table with data (split into key ranges when big), and per
 * table the indexes to build once its data is in. At a later epoch (the first snapshot was lost)
 * it decides what of the earlier copy stands; see {@link #restart}.
 */
final class CopyPlanner {
  private static final Logger log = LoggerFactory.getLogger(CopyPlanner.class);
  /** How long the plan waits for the epoch's holder to publish its snapshot. */
  private static final Duration SNAPSHOT_WAIT = Duration.ofMinutes(10);
  /** The first key of the plan's advisory lock (the second: the hash of the copy's schema). */
  static final int PLAN_LOCK = 0x46525950;
  private static final Duration PLAN_LOCK_WAIT = Duration.ofSeconds(30);
  private static final Duration PLAN_LOCK_POLL = Duration.ofMillis(50);
  /** The xid gap past which two snapshots are taken to differ without looking at each transaction. */
  private static final long MAX_XIDS_COMPARED = 1_000_000;

  private final Databases databases;
  private final PgTools tools;
  private final Path workDir;
  private final CopyTuning tuning;
  private final Pause pause;

  CopyPlanner(Databases databases, PgTools tools, Path workDir, CopyTuning tuning, Pause pause) {
    this.databases = databases;
    this.tools = tools;
    this.workDir = workDir;
    this.tuning = tuning;
    this.pause = pause;
  }

  /** A table with data, as the plan records it. */
  record PlannedTable(
      long oid, String schema, String name, List<String> columns, List<Integer> generated, String splitColumn, long bytes) {
    Catalog.Table table() {
      return new Catalog.Table(schema, name);
    }
  }



  CopyPlan plan(CopyJob job) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String app = job.applicationName("plan");
    // An earlier attempt may still run: its worker stalled past its heartbeat timeout, or the
    // workflow gave its epoch up. Left alone, it could record its plan over this one's, or its
    // pre-data restore (--clean) drop tables this one's copiers filled. Its sessions end here
    // (its restore's too), and with them its hold on the plan; it fails at its next statement.
    for (Endpoint side : List.of(job.source(), job.target())) {
      int ended = CopySessions.endSessions(databases, side, app, null);
      if (ended > 0) {
        log.warn("copy {}: ended {} session(s) of an earlier plan attempt on the {}", job.tag(), ended, side.side());
      }
    }
    try (Connection book = databases.connect(job.target(), app)) {
      String snapshot = awaitSnapshot(book, job, context);
      holdThePlan(book, job, context);
      String visibility = CopyBook.state(book, job.schema(), CopyBook.visibilityKey(job.epoch())).orElseThrow();
      boolean planned = CopyBook.state(book, job.schema(), "planned").isPresent();
      int epoch = CopyBook.state(book, job.schema(), "epoch").map(Integer::parseInt).orElse(0);
      if (planned && epoch >= job.epoch()) {
        return summary(book, job, 0, 0);
      }
      try (Connection source = databases.connect(job.source(), app)) {
        CopySessions.prepareSource(source);
        importOrRefuse(job, source, snapshot, book);
        if (planned) {
          CopyPlan plan = restart(job, book, source, visibility);
          CopySessions.release(source);
          return plan;
        }
        planAll(job, book, source, snapshot, context);
        CopySessions.release(source);
        return summary(book, job, 0, 0);
      }
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    }
  }

  /**
   * Takes the copy's plan lock for the session (released when the plan's book connection
   * closes): one plan attempt at a time restores, restarts and records, and each reads the
   * bookkeeping only once it holds the lock. An earlier attempt's session was ended just before,
   * so the wait is for its server to notice.
   */
  private void holdThePlan(Connection book, CopyJob job, ActivityExecutionContext context) throws SQLException {
    SessionLock lock = new SessionLock(PLAN_LOCK + ", hashtext(?)", job.schema());
    if (!lock.take(book, SessionLock.triesFor(PLAN_LOCK_WAIT, PLAN_LOCK_POLL), PLAN_LOCK_POLL, pause, () -> context.heartbeat(null))) {
      throw ApplicationFailure.newFailure(
          "another session holds the plan lock of copy " + job.tag() + " on " + job.target().describe() + " after "
              + PLAN_LOCK_WAIT.toSeconds() + " s (pg_locks, locktype advisory, classid " + PLAN_LOCK + "): tried again",
          Errors.STEP_FAILED);
    }
  }

  /**
   * Fails unless the plan's book session is still connected: a newer attempt ends an earlier
   * one's sessions, and nothing that changes the target may run once it has.
   */
  private static void stillTheAttempt(Connection book) throws SQLException {
    try (Statement s = book.createStatement()) {
      s.execute("SELECT 1");
    }
  }

  /** Waits for the epoch's holder to publish its snapshot (it starts at the same time as the plan). */
  private String awaitSnapshot(Connection book, CopyJob job, ActivityExecutionContext context) throws SQLException {
    Instant deadline = Instant.now().plus(SNAPSHOT_WAIT);
    while (true) {
      Optional<String> id =
          CopyBook.exists(book, job.schema())
              ? CopyBook.state(book, job.schema(), CopyBook.snapshotKey(job.epoch()))
              : Optional.empty();
      if (id.isPresent()) {
        return id.get();
      }
      if (Instant.now().isAfter(deadline)) {
        throw ApplicationFailure.newFailure(
            "the copy's snapshot (epoch " + job.epoch() + ") was not published within " + SNAPSHOT_WAIT.toMinutes()
                + " minutes: is a worker free to run its holder?",
            Errors.STEP_FAILED);
      }
      context.heartbeat(null);
      pause.pause(Duration.ofMillis(50));
    }
  }

  /**
   * Imports the snapshot; when the import fails while its holder is still connected, the source
   * refuses imports (a pooler between Ferry and the server, most often): final, use the dump
   * method. When the holder is gone, the failure is retryable and the workflow starts a new one.
   */
  private void importOrRefuse(CopyJob job, Connection source, String snapshot, Connection book) throws SQLException {
    try {
      CopySessions.importSnapshot(source, snapshot);
      try (Statement s = source.createStatement()) {
        s.execute("SELECT 1");
      }
    } catch (SQLException e) {
      source.rollback();
      source.setAutoCommit(true);
      boolean holderAlive;
      try (Connection probe = databases.connect(job.source(), job.applicationName("plan"))) {
        holderAlive = CopySessions.sessionAlive(probe, job.applicationName("holder"));
      }
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      boolean connectionLost = state.startsWith("08") || state.startsWith("57");
      if (holderAlive && !connectionLost) {
        throw ApplicationFailure.newNonRetryableFailure(
            job.source().describe() + " refuses SET TRANSACTION SNAPSHOT (" + Databases.firstLine(e.getMessage())
                + ") while the session that exported it is still open: a connection pooler between Ferry and the"
                + " database? The streaming copy needs every session on the same server. Connect Ferry to the server"
                + " itself, or migrate with snapshot.method: dump",
            Errors.SNAPSHOT_REFUSED);
      }
      throw ApplicationFailure.newFailure(
          "the copy's snapshot " + snapshot + " is gone (its holder ended): " + Databases.firstLine(e.getMessage()),
          Errors.DATABASE_UNREACHABLE);
    }
  }

  /** The first plan: schema, tables, chunks, indexes, all at the snapshot. */
  private void planAll(CopyJob job, Connection book, Connection source, String snapshot, ActivityExecutionContext context)
      throws SQLException {
    long t0 = System.nanoTime();
    Path dump = dumpSchema(job, snapshot);
    log.debug("copy {}: schema dumped in {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
    try {
      // Pre-data: schemas, types, tables without their indexes and constraints, sequences.
      // Named as the plan's sessions are, so that a newer attempt ends this restore too.
      stillTheAttempt(book);
      new PgRestore(databases, tools)
          .restore(
              new PgRestore.Job(
                  job.target(), job.runKey(), job.applicationName("plan-restore"), dump, job.jobs(),
                  List.of("pre-data"), true, false, WriteFence::isFenceEntry));
      context.heartbeat(null);
      log.debug("copy {}: pre-data restored at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      List<PlannedTable> tables = tables(source);
      Map<Long, Integer> ids = new HashMap<>();
      for (int i = 0; i < tables.size(); i++) {
        ids.put(tables.get(i).oid(), i + 1);
      }
      Map<Long, long[]> bounds = new HashMap<>();
      // Split keys' bounds only for tables worth splitting: a min and max each, over the key's index.
      for (PlannedTable t : toSplit(tables, job.request().copiers(), tuning)) {
        bounds.put(t.oid(), bounds(source, t));
      }
      log.debug("copy {}: tables listed at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      List<IndexPlan> indexes = indexes(job, source, dump, ids);
      String checksum = bothUtf8(source, book) ? CopyBook.CHECKSUM_WORKER : CopyBook.CHECKSUM_SOURCE;
      log.debug("copy {}: indexes read at {} ms", job.tag(), (System.nanoTime() - t0) / 1_000_000);
      byte[] dumpBytes = Files.readAllBytes(dump);
      boolean autoCommit = book.getAutoCommit();
      book.setAutoCommit(false);
      try {
        record(job, book, tables, bounds, indexes, dumpBytes);
        CopyBook.putState(book, job.schema(), "checksum", checksum);
        book.commit();
      } catch (SQLException | RuntimeException e) {
        book.rollback();
        throw e;
      } finally {
        book.setAutoCommit(autoCommit);
      }
      log.info("copy {} planned: {} tables, {} indexes to build as tables land", job.tag(), tables.size(), indexes.size());
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "reading the copy's schema dump " + dump + " failed: " + e.getMessage(), Errors.SNAPSHOT_FAILED);
    } finally {
      try {
        Files.deleteIfExists(dump);
      } catch (IOException ignored) {
        // The schema only; no rows.
      }
    }
  }

  /** {@code pg_dump --schema-only --format=custom --snapshot}: small, no rows. */
  private Path dumpSchema(CopyJob job, String snapshot) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String app = job.applicationName("dump");
    databases.terminateSessionsQuietly(job.source(), app);
    try {
      Files.createDirectories(workDir);
      Path file = Files.createTempFile(workDir, "ferry-copy-" + job.tag() + "-", ".dump");
      List<String> command =
          List.of(
              tools.command("pg_dump"),
              "--format=custom",
              "--schema-only",
              "--snapshot=" + snapshot,
              "--file=" + file,
              "--no-password",
              "--lock-wait-timeout=300000",
              // Ferry's own bookkeeping is not the app's.
              "--exclude-schema=ferry_sync_*",
              "--exclude-schema=ferry_restore_claim",
              "--exclude-schema=" + CopyBook.SCHEMA_PREFIX + "*",
              // The frozen source's write fence is not the app's (its triggers are left out at
              // restore, see WriteFence.isFenceEntry).
              "--exclude-schema=" + WriteFence.SCHEMA);
      try {
        ToolRun.runOrFail(
            "pg_dump", job.source(), Errors.SNAPSHOT_FAILED, command, job.source().url().libpqEnvironment(app), line -> {},
            () -> context.heartbeat(null));
      } catch (RuntimeException e) {
        Files.deleteIfExists(file);
        throw e;
      }
      return file;
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "writing the copy's schema dump into " + workDir + " failed: " + e.getMessage(), Errors.SNAPSHOT_FAILED);
    }
  }

  /** Every table with rows (ordinary tables and partitions), its columns and split key, at the snapshot. */
  static List<PlannedTable> tables(Connection source) throws SQLException {
    Map<Long, List<String>> columns = new HashMap<>();
    Map<Long, List<Integer>> generated = new HashMap<>();
    try (Statement s = source.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT a.attrelid, quote_ident(a.attname), a.attgenerated <> ''"
                    + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND"
                    + Catalog.USER_RELATION_FILTER
                    + " ORDER BY a.attrelid, a.attnum")) {
      while (rs.next()) {
        List<String> cols = columns.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>());
        if (rs.getBoolean(3)) {
          generated.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(cols.size());
        }
        cols.add(rs.getString(2));
      }
    }
    List<PlannedTable> tables = new ArrayList<>();
    try (Statement s = source.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT c.oid, n.nspname, c.relname,"
                    + " pg_relation_size(c.oid) + coalesce(pg_relation_size(nullif(c.reltoastrelid, 0::oid)), 0),"
                    + " (SELECT quote_ident(a.attname) FROM pg_index i"
                    + "   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                    + "   WHERE i.indrelid = c.oid AND i.indisprimary"
                    + "   AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.relkind = 'r' AND" + Catalog.USER_RELATION_FILTER
                    + " ORDER BY 4 DESC, 2, 3")) {
      while (rs.next()) {
        long oid = rs.getLong(1);
        tables.add(
            new PlannedTable(
                oid, rs.getString(2), rs.getString(3), columns.getOrDefault(oid, List.of()),
                generated.getOrDefault(oid, List.of()), rs.getString(5), rs.getLong(4)));
      }
    }
    return tables;
  }

  /** The split key's smallest and largest value at the snapshot, or {@code null} when the table is empty. */
  private static long[] bounds(Connection source, PlannedTable t) throws SQLException {
    try (Statement s = source.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT min(" + t.splitColumn() + "), max(" + t.splitColumn() + ") FROM ONLY " + t.table().sql())) {
      rs.next();
      long min = rs.getLong(1);
      if (rs.wasNull()) {
        return null;
      }
      return new long[] {min, rs.getLong(2)};
    }
  }

  /**
   * The tables to copy in key ranges: none unless some table would hold the copy up. Copied whole,
   * a table is loaded by one {@code COPY … FREEZE} (its rows frozen as written) and its indexes and
   * check read it after a single writer; pgcopydb splits nothing by default. So the whole tables
   * are dealt, largest first, each to the copier with the least so far; when the busiest copier
   * would end up with more than {@link CopyTuning#splitOverShare} (1.25) × its fair share (all
   * bytes over the copiers), every table of at least the split size with an integer key is split, as
   * before. At 5 GB in a 3 GB and a 2 GB table on two copiers (the busiest at 1.2 × its share),
   * copying both whole took the streamed copy from 1.39 × pgcopydb to 1.21 × (bench/README).
   */
  static List<PlannedTable> toSplit(List<PlannedTable> tables, int copiers, CopyTuning tuning) {
    List<PlannedTable> splittable =
        tables.stream().filter(t -> t.splitColumn() != null && t.bytes() >= tuning.splitBytes()).toList();
    if (splittable.isEmpty()) {
      return List.of();
    }
    long[] load = new long[Math.max(1, copiers)];
    long total = 0;
    List<Long> sizes = tables.stream().map(PlannedTable::bytes).sorted(Comparator.reverseOrder()).toList();
    for (long bytes : sizes) {
      int least = 0;
      for (int i = 1; i < load.length; i++) {
        if (load[i] < load[least]) {
          least = i;
        }
      }
      load[least] += bytes;
      total += bytes;
    }
    long busiest = Arrays.stream(load).max().orElse(0);
    double share = (double) total / load.length;
    return busiest > tuning.splitOverShare() * share ? splittable : List.of();
  }

  /** A chunk's key range {@code (lower, upper]}; a {@code null} end is open. */
  record Range(Long lower, Long upper) {
    static final Range WHOLE = new Range(null, null);
  }

  /**
   * A table's key ranges: the first open below and the last open above, so together they hold
   * every row whatever the bounds were; one unbounded range for a table copied whole.
   */
  List<Range> ranges(PlannedTable t, long[] bounds) {
    if (bounds == null) {
      return List.of(Range.WHOLE);
    }
    long n = Math.min(tuning.maxChunks(), Math.max(1, (t.bytes() + tuning.chunkBytes() - 1) / tuning.chunkBytes()));
    double span = (double) bounds[1] - (double) bounds[0] + 1;
    long width = (long) Math.max(1, Math.ceil(span / n));
    List<Range> ranges = new ArrayList<>();
    Long lower = null;
    for (long i = 1; i < n; i++) {
      long upper = bounds[0] - 1 + width * i;
      if (upper >= bounds[1]) {
        break;
      }
      ranges.add(new Range(lower, upper));
      lower = upper;
    }
    if (ranges.isEmpty()) {
      return List.of(Range.WHOLE);
    }
    ranges.add(new Range(lower, null));
    return ranges;
  }

  /** An index to build once its table's data is in. */
  record IndexPlan(int tableId, int dumpId, String name, String createSql, String constraintSql) {}

  /**
   * The post-data entries that belong to one copied table and can be built while other tables
   * copy: plain indexes (pg_restore's own SQL), and primary keys and unique constraints of
   * tables that are not partitions, built as unique indexes and attached as constraints at the
   * end ({@code ADD CONSTRAINT … USING INDEX}, which takes no time), as pgcopydb does.
   */
  private List<IndexPlan> indexes(CopyJob job, Connection source, Path dump, Map<Long, Integer> tableIds)
      throws SQLException {
    List<PostData.Entry> entries = PostData.entries(tools, dump);
    List<Long> indexOids = new ArrayList<>();
    List<Long> constraintOids = new ArrayList<>();
    for (PostData.Entry e : entries) {
      if (e.isIndex()) {
        indexOids.add(e.oid());
      } else if (e.isConstraint()) {
        constraintOids.add(e.oid());
      }
    }
    Map<Long, long[]> indexTables = new HashMap<>();
    Map<Long, String> indexNames = new HashMap<>();
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT i.indexrelid, i.indrelid, quote_ident(c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                + " WHERE i.indexrelid = ANY(?::oid[])")) {
      ps.setArray(1, source.createArrayOf("bigint", indexOids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          indexTables.put(rs.getLong(1), new long[] {rs.getLong(2)});
          indexNames.put(rs.getLong(1), rs.getString(3));
        }
      }
    }
    boolean nullsNotDistinct = Catalog.serverVersion(source) >= 150000;
    Map<Long, String[]> constraints = new HashMap<>();
    try (Statement s = source.createStatement()) {
      // Fully qualified definitions, as pg_dump writes them.
      s.execute("SET LOCAL search_path = ''");
    }
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT k.oid, k.conrelid, pg_catalog.pg_get_indexdef(k.conindid),"
                + " pg_catalog.format('ALTER TABLE ONLY %I.%I ADD CONSTRAINT %I %s USING INDEX %I',"
                + "   n.nspname, t.relname, k.conname, CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,"
                + "   ic.relname),"
                + " pg_catalog.quote_ident(ic.relname)"
                + " FROM pg_catalog.pg_constraint k"
                + " JOIN pg_catalog.pg_index i ON i.indexrelid = k.conindid"
                + " JOIN pg_catalog.pg_class ic ON ic.oid = k.conindid"
                + " JOIN pg_catalog.pg_class t ON t.oid = k.conrelid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace"
                + " WHERE k.oid = ANY(?::pg_catalog.oid[]) AND k.contype IN ('p', 'u') AND NOT k.condeferrable"
                + " AND t.relkind = 'r' AND NOT t.relispartition AND i.indnkeyatts = i.indnatts"
                + (nullsNotDistinct ? " AND NOT i.indnullsnotdistinct" : ""))) {
      ps.setArray(1, source.createArrayOf("bigint", constraintOids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          constraints.put(rs.getLong(1), new String[] {Long.toString(rs.getLong(2)), rs.getString(3), rs.getString(4), rs.getString(5)});
        }
      }
    }
    try (Statement s = source.createStatement()) {
      s.execute("SET LOCAL search_path = DEFAULT");
    }
    List<PostData.Entry> plainIndexes = new ArrayList<>();
    for (PostData.Entry e : entries) {
      long[] table = indexTables.get(e.oid());
      if (e.isIndex() && table != null && tableIds.containsKey(table[0])) {
        plainIndexes.add(e);
      }
    }
    Map<Integer, String> sql = PostData.indexSql(tools, dump, plainIndexes);
    List<IndexPlan> plans = new ArrayList<>();
    for (PostData.Entry e : entries) {
      if (e.isIndex() && sql.containsKey(e.dumpId())) {
        int tableId = tableIds.get(indexTables.get(e.oid())[0]);
        plans.add(new IndexPlan(tableId, e.dumpId(), indexNames.get(e.oid()), sql.get(e.dumpId()), null));
      } else if (e.isConstraint() && constraints.containsKey(e.oid())) {
        String[] c = constraints.get(e.oid());
        Integer tableId = tableIds.get(Long.parseLong(c[0]));
        if (tableId != null) {
          plans.add(new IndexPlan(tableId, e.dumpId(), c[3], c[1], c[2]));
        }
      }
    }
    return plans;
  }

  /**
   * Whether both databases keep text in UTF-8, which is how the copy's COPY streams arrive: then
   * the row text the worker rebuilds from a streamed row is, byte for byte, the one the target's
   * SQL checksums.
   */
  private static boolean bothUtf8(Connection source, Connection target) throws SQLException {
    for (Connection c : List.of(source, target)) {
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT current_setting('server_encoding')")) {
        rs.next();
        if (!rs.getString(1).equals("UTF8")) {
          return false;
        }
      }
    }
    return true;
  }

  /** Writes the plan into the bookkeeping, in the caller's transaction. */
  private void record(
      CopyJob job, Connection book, List<PlannedTable> tables, Map<Long, long[]> bounds, List<IndexPlan> indexes,
      byte[] dump) throws SQLException {
    String schema = job.schema();
    try (Statement s = book.createStatement()) {
      // A plan an earlier attempt wrote halfway never committed; one that committed is not redone.
      s.execute("DELETE FROM " + schema + ".indexes; DELETE FROM " + schema + ".chunks; DELETE FROM " + schema + ".tables;"
          + " DELETE FROM " + schema + ".schema_dump");
    }
    try (PreparedStatement t =
            book.prepareStatement(
                "INSERT INTO " + schema + ".tables (id, source_oid, nspname, relname, copy_columns, read_columns, generated,"
                    + " split_column, bytes, columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        PreparedStatement c =
            book.prepareStatement("INSERT INTO " + schema + ".chunks (table_id, n, lower, upper) VALUES (?, ?, ?, ?)")) {
      for (int i = 0; i < tables.size(); i++) {
        PlannedTable p = tables.get(i);
        int id = i + 1;
        List<String> copyColumns = new ArrayList<>();
        for (int col = 0; col < p.columns().size(); col++) {
          if (!p.generated().contains(col)) {
            copyColumns.add(p.columns().get(col));
          }
        }
        t.setInt(1, id);
        t.setLong(2, p.oid());
        t.setString(3, p.schema());
        t.setString(4, p.name());
        t.setString(5, String.join(", ", copyColumns));
        t.setString(6, String.join(", ", p.columns()));
        t.setArray(7, p.generated().isEmpty() ? null : book.createArrayOf("int4", p.generated().toArray()));
        t.setString(8, p.splitColumn());
        t.setLong(9, p.bytes());
        t.setInt(10, p.columns().size());
        t.addBatch();
        List<Range> ranges = bounds.containsKey(p.oid()) ? ranges(p, bounds.get(p.oid())) : List.of(Range.WHOLE);
        for (int n = 0; n < ranges.size(); n++) {
          Range r = ranges.get(n);
          c.setInt(1, id);
          c.setInt(2, n);
          c.setObject(3, r.lower(), java.sql.Types.BIGINT);
          c.setObject(4, r.upper(), java.sql.Types.BIGINT);
          c.addBatch();
        }
      }
      t.executeBatch();
      c.executeBatch();
    }
    try (PreparedStatement ix =
        book.prepareStatement(
            "INSERT INTO " + schema + ".indexes (id, table_id, dump_id, name, create_sql, constraint_sql)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
      int id = 0;
      for (IndexPlan p : indexes) {
        ix.setInt(1, ++id);
        ix.setInt(2, p.tableId());
        ix.setInt(3, p.dumpId());
        ix.setString(4, p.name());
        ix.setString(5, p.createSql());
        ix.setString(6, p.constraintSql());
        ix.addBatch();
      }
      ix.executeBatch();
    }
    try (PreparedStatement d = book.prepareStatement("INSERT INTO " + schema + ".schema_dump (id, dump) VALUES (1, ?)")) {
      d.setBytes(1, dump);
      d.executeUpdate();
    }
    CopyBook.putState(book, schema, "planned", Instant.now().toString());
    CopyBook.putState(book, schema, "epoch", Integer.toString(job.epoch()));
  }

  /**
   * A new epoch: the earlier snapshot was lost. What the earlier copy finished stands when it is
   * exactly what this snapshot would copy, and is started again otherwise:
   *
   * <ul>
   *   <li>the trigger method's copy ({@code captured}): a group of tables joined by foreign keys
   *       all of whose rows came from one snapshot stands, with that snapshot (the capture's
   *       changes are trimmed table by table with the snapshot the table's rows came from); the
   *       tables of any other group are emptied and copied again ({@link #resetsBetweenSnapshots});
   *   <li>the single-phase copy ({@code frozen}): rows copied at a snapshot under which no
   *       transaction has committed since (the frozen source did not change) stand; otherwise
   *       every table is emptied and copied again.
   * </ul>
   *
   * Unfinished work loses its owner (the earlier epoch's copiers were cancelled, and their
   * sessions are ended here). All in one transaction, which also moves the epoch on: a copier of
   * the earlier epoch stops at its next claim.
   */
  private CopyPlan restart(CopyJob job, Connection book, Connection source, String visibility) throws SQLException {
    String schema = job.schema();
    boolean autoCommit = book.getAutoCommit();
    book.setAutoCommit(false);
    int kept = 0;
    int restarted = 0;
    try {
      // Moving the epoch on locks its row: an earlier epoch's copier claims under a share lock on
      // it, and after this commits it finds the epoch moved and stops.
      CopyBook.putState(book, schema, "epoch", Integer.toString(job.epoch()));
      for (String side : List.of(Databases.SOURCE, Databases.TARGET)) {
        CopySessions.endSessions(
            databases, side.equals(Databases.SOURCE) ? job.source() : job.target(), job.applicationPrefix() + "copier-", null);
      }
      // Every table copied and checked: the copy reads no more rows at any snapshot, and what
      // follows (the finish: constraints, foreign keys, sequences) needs none. Losing the holder
      // now is what ending it does after the last copier; nothing is emptied (a finish already
      // under way may have added the foreign keys that a TRUNCATE would trip on).
      // Else the tables to empty: frozen, rows from an epoch that does not stand; captured, see
      // resetsBetweenSnapshots.
      List<Integer> reset = new ArrayList<>();
      List<String> names = new ArrayList<>();
      if (allChecked(book, schema)) {
        log.info("copy {}: every table was checked before snapshot {} was lost; all are kept", job.tag(), job.epoch() - 1);
      } else if (job.captured()) {
        resetsBetweenSnapshots(book, source, schema).forEach((id, name) -> {
          reset.add(id);
          names.add(name);
        });
      } else {
        List<Integer> standingEpochs = standingEpochs(job, book, source, visibility);
        String standing =
            standingEpochs.isEmpty() ? "-1" : standingEpochs.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).get();
        try (Statement s = book.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT t.id, quote_ident(t.nspname) || '.' || quote_ident(t.relname) FROM " + schema + ".tables t"
                        + " WHERE EXISTS (SELECT 1 FROM " + schema + ".chunks c WHERE c.table_id = t.id AND c.state = 'copied'"
                        + " AND c.epoch NOT IN (" + standing + "))")) {
          while (rs.next()) {
            reset.add(rs.getInt(1));
            names.add(rs.getString(2));
          }
        }
      }
      try (Statement s = book.createStatement()) {
        for (String name : names) {
          s.execute("TRUNCATE ONLY " + name);
        }
        if (!reset.isEmpty()) {
          String ids = reset.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).get();
          s.execute(
              "UPDATE " + schema + ".chunks SET state = 'pending', owner = NULL, epoch = NULL, rows = NULL, bytes = NULL,"
                  + " hash_high = NULL, hash_low = NULL WHERE table_id IN (" + ids + ")");
          s.execute(
              "UPDATE " + schema + ".tables SET state = 'copying', snapshot = NULL, owner = NULL, rows = NULL"
                  + " WHERE id IN (" + ids + ")");
        }
        s.execute("UPDATE " + schema + ".chunks SET owner = NULL WHERE state = 'pending'");
        s.execute("UPDATE " + schema + ".tables SET owner = NULL WHERE state <> 'checked'");
        s.execute("UPDATE " + schema + ".indexes SET owner = NULL WHERE state <> 'built'");
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + schema + ".tables WHERE state <> 'copying'")) {
          rs.next();
          kept = rs.getInt(1);
        }
      }
      restarted = reset.size();
      book.commit();
      log.info("copy {} at epoch {}: {} finished table(s) kept, {} started again", job.tag(), job.epoch(), kept, restarted);
    } catch (SQLException | RuntimeException e) {
      book.rollback();
      throw e;
    } finally {
      book.setAutoCommit(autoCommit);
    }
    return summary(book, job, kept, restarted);
  }

  /**
   * The trigger method's copy, from a live source: rows copied at different snapshots are each
   * exact for their snapshot (the capture is trimmed table by table), but two tables joined by a
   * foreign key must come from the same one, or the key may not hold when it is added. So tables
   * are taken together with every table they are joined to by foreign keys (a partitioned table
   * with its partitions), and such a group stands only when all its tables were copied whole at
   * one snapshot; the tables of any other group that hold rows are emptied and copied again.
   * Returns them, id → quoted name.
   */
  private static Map<Integer, String> resetsBetweenSnapshots(Connection book, Connection source, String schema)
      throws SQLException {
    record Copied(int id, String name, long oid, String state, String snapshot, boolean anyRows) {}
    List<Copied> tables = new ArrayList<>();
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT t.id, quote_ident(t.nspname) || '.' || quote_ident(t.relname), t.source_oid, t.state, t.snapshot,"
                    + " EXISTS (SELECT 1 FROM " + schema + ".chunks c WHERE c.table_id = t.id AND c.state = 'copied')"
                    + " FROM " + schema + ".tables t")) {
      while (rs.next()) {
        tables.add(new Copied(rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5), rs.getBoolean(6)));
      }
    }
    // Groups: union-find over partition roots, joined by every foreign key.
    Map<Long, Long> parent = new HashMap<>();
    java.util.function.LongUnaryOperator find =
        new java.util.function.LongUnaryOperator() {
          @Override
          public long applyAsLong(long x) {
            long p = parent.getOrDefault(x, x);
            if (p == x) {
              return x;
            }
            long root = applyAsLong(p);
            parent.put(x, root);
            return root;
          }
        };
    Map<Long, Long> rootOf = new HashMap<>();
    try (PreparedStatement ps =
        source.prepareStatement("SELECT t.oid, coalesce(pg_partition_root(t.oid)::oid, t.oid) FROM unnest(?::oid[]) AS t(oid)")) {
      ps.setArray(1, source.createArrayOf("bigint", tables.stream().map(Copied::oid).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rootOf.put(rs.getLong(1), rs.getLong(2));
        }
      }
    }
    try (Statement s = source.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(pg_partition_root(conrelid)::oid, conrelid), coalesce(pg_partition_root(confrelid)::oid, confrelid)"
                    + " FROM pg_constraint WHERE contype = 'f'")) {
      while (rs.next()) {
        long a = find.applyAsLong(rs.getLong(1));
        long b = find.applyAsLong(rs.getLong(2));
        if (a != b) {
          parent.put(a, b);
        }
      }
    }
    Map<Long, List<Copied>> groups = new HashMap<>();
    for (Copied t : tables) {
      groups.computeIfAbsent(find.applyAsLong(rootOf.getOrDefault(t.oid(), t.oid())), k -> new ArrayList<>()).add(t);
    }
    Map<Integer, String> reset = new LinkedHashMap<>();
    for (List<Copied> group : groups.values()) {
      boolean whole = group.stream().allMatch(t -> !t.state().equals(CopyBook.COPYING) && t.snapshot() != null);
      boolean oneSnapshot = group.stream().map(Copied::snapshot).distinct().count() == 1;
      if (whole && oneSnapshot) {
        continue;
      }
      group.stream().filter(Copied::anyRows).forEach(t -> reset.put(t.id(), t.name()));
    }
    return reset;
  }

  /**
   * Whether a source at snapshot {@code now} holds exactly the rows it held at {@code then}: no
   * transaction that {@code then} did not see has committed and is seen by {@code now}. Checks
   * every transaction id in between (running at {@code then}, or started after it), so it is
   * exact; any commit on the server counts, also one in another database, which errs on the side
   * of copying again.
   */
  static boolean unchanged(Connection source, String then, String now) throws SQLException {
    try (PreparedStatement gap =
        source.prepareStatement("SELECT pg_snapshot_xmax(?::pg_snapshot)::text::bigint - pg_snapshot_xmax(?::pg_snapshot)::text::bigint")) {
      gap.setString(1, now);
      gap.setString(2, then);
      try (ResultSet rs = gap.executeQuery()) {
        rs.next();
        if (rs.getLong(1) > MAX_XIDS_COMPARED) {
          return false;
        }
      }
    }
    try (PreparedStatement ps =
        source.prepareStatement(
            "SELECT count(*) FROM ("
                + " SELECT x FROM pg_snapshot_xip(?::pg_snapshot) x"
                + " UNION ALL"
                + " SELECT g::text::xid8 FROM generate_series(pg_snapshot_xmax(?::pg_snapshot)::text::bigint,"
                + "   pg_snapshot_xmax(?::pg_snapshot)::text::bigint - 1) g"
                + ") between_them(x)"
                + " WHERE pg_visible_in_snapshot(x, ?::pg_snapshot) AND pg_xact_status(x) = 'committed'")) {
      ps.setString(1, then);
      ps.setString(2, then);
      ps.setString(3, now);
      ps.setString(4, now);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 0;
      }
    }
  }

  /** The single-phase copy's epochs whose rows stand: no transaction committed on the source since. */
  private static List<Integer> standingEpochs(CopyJob job, Connection book, Connection source, String visibility)
      throws SQLException {
    List<Integer> standing = new ArrayList<>();
    for (String copied : Catalog.strings(book, "SELECT DISTINCT epoch FROM " + job.schema() + ".chunks WHERE state = 'copied'")) {
      int e = Integer.parseInt(copied);
      String then = CopyBook.state(book, job.schema(), CopyBook.visibilityKey(e)).orElse(null);
      if (then != null && unchanged(source, then, visibility)) {
        standing.add(e);
      } else {
        log.info("copy {}: the source changed since epoch {}'s snapshot; its rows are copied again", job.tag(), e);
      }
    }
    return standing;
  }

  private static boolean allChecked(Connection book, String schema) throws SQLException {
    try (Statement s = book.createStatement();
        ResultSet rs = s.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + schema + ".tables WHERE state <> 'checked')")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private CopyPlan summary(Connection book, CopyJob job, int kept, int restarted) throws SQLException {
    String schema = job.schema();
    try (Statement s = book.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM " + schema + ".tables), (SELECT count(*) FROM " + schema + ".chunks),"
                    + " (SELECT coalesce(sum(bytes), 0) FROM " + schema + ".tables), (SELECT count(*) FROM " + schema + ".indexes)")) {
      rs.next();
      return new CopyPlan(rs.getInt(1), rs.getInt(2), rs.getLong(3), rs.getInt(4), kept, restarted);
    }
  }
}

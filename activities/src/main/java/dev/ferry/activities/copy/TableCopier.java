package dev.ferry.activities.copy;

import dev.ferry.activities.Pause;
import dev.ferry.activities.postgres.DatabaseChecks;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One copier: takes work from the bookkeeping until there is none left, in this order of
 * preference — a table to check (its data in, its indexes built), an index to build (its table's
 * data in), a chunk to copy (largest tables first). Work is claimed by writing the copier's name
 * as its owner; a copier's retry (same name) takes its own unfinished work back, after ending the
 * sessions its dead attempt left. Each piece of work commits with its bookkeeping row in one
 * transaction on the target, so it is done exactly once or not at all.
 *
 * <p>The work runs on a thread of its own; the activity's thread heartbeats meanwhile and, when
 * the activity is cancelled, cancels the statements on both servers.
 */
final class TableCopier {
  private static final Logger log = LoggerFactory.getLogger(TableCopier.class);
  private static final Duration TICK = Duration.ofSeconds(1);
  private static final int WRITE_BUFFER = 1 << 18;
  /** How often a copier looks whether its epoch's plan is there. */
  private static final Duration PLAN_POLL = Duration.ofMillis(50);

  private final Databases databases;
  private final CopyTuning tuning;
  private final Pause pause;
  private final CopyFinisher finisher;

  TableCopier(Databases databases, CopyTuning tuning, Pause pause, CopyFinisher finisher) {
    this.databases = databases;
    this.tuning = tuning;
    this.pause = pause;
    this.finisher = finisher;
  }

  /** A table as the bookkeeping holds it. */
  record TableRow(
      int id, String schema, String name, String copyColumns, String readColumns, List<Integer> generated,
      String splitColumn, int chunks, int columns) {
    String sql() {
      return dev.ferry.activities.postgres.Catalog.quote(schema) + "." + dev.ferry.activities.postgres.Catalog.quote(name);
    }

    String display() {
      return new dev.ferry.activities.postgres.Catalog.Table(schema, name).display();
    }

    /** Copied whole: truncated and loaded with COPY FREEZE in one transaction. */
    boolean whole() {
      return chunks == 1;
    }
  }

  /** One chunk of a table: its key range {@code (lower, upper]}, {@code null} ends open. */
  record Chunk(int tableId, int n, Long lower, Long upper) {}

  /** What a copier claimed. */
  private sealed interface Work permits CheckTable, BuildIndex, CopyChunk {}

  private record CheckTable(int tableId) implements Work {}

  private record BuildIndex(int indexId, int tableId, String name, String sql) implements Work {}

  private record CopyChunk(Chunk chunk) implements Work {}

  void run(CopyJob job) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    int copier = job.request().copier();
    String app = job.applicationName("copier-" + copier);
    ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "ferry-copier-" + job.tag() + "-" + copier));
    // A dead attempt of this copier may still be connected, mid-transaction: the first session on
    // each side ends it, before this attempt opens its others.
    try (Connection book = endPredecessors(databases.connect(job.target(), app), job.target(), app);
        Connection source = endPredecessors(databases.connect(job.source(), app), job.source(), app);
        Connection data = databases.connect(job.target(), app)) {
      Session session = new Session(job, "e" + job.epoch() + "-c" + copier, book, data, source);
      // Its epoch's plan is normally in; a copier retried while a new epoch plans waits for it.
      while (!session.planned()) {
        if (session.superseded) {
          return;
        }
        context.heartbeat(null);
        pause.pause(PLAN_POLL);
      }
      session.prepare();
      Instant nextProgress = Instant.EPOCH;
      Progress progress = null;
      while (true) {
        Work work = runOn(thread, context, session, progress, session::claim);
        if (work == null) {
          if (session.superseded) {
            log.info("copier {} of copy {}: epoch {} is over, stopping", copier, job.tag(), job.epoch());
            return;
          }
          if (runOn(thread, context, session, progress, session::allChecked)) {
            // The first copier out finishes the copy, without waiting for the workflow.
            finisher.finishIfFree(job, context);
            return;
          }
          context.heartbeat(progress);
          pause.pause(tuning.idlePoll());
        } else {
          Work claimed = work;
          session.current = describe(claimed);
          long started = System.nanoTime();
          runOn(thread, context, session, progress, () -> session.perform(claimed));
          log.debug("copy {} copier {}: {} took {} ms", job.tag(), copier, session.current, (System.nanoTime() - started) / 1_000_000);
          session.current = null;
        }
        if (Instant.now().isAfter(nextProgress)) {
          progress = runOn(thread, context, session, progress, session::progress);
          nextProgress = Instant.now().plusSeconds(5);
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(job.target(), e);
    } finally {
      thread.shutdownNow();
    }
  }

  /** Ends the other sessions of {@code app} on the connection's database: a dead attempt's. */
  private static Connection endPredecessors(Connection c, dev.ferry.activities.postgres.Endpoint side, String app) {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE application_name = ? AND datname = current_database() AND pid <> pg_backend_pid()")) {
      ps.setString(1, app);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getInt(1) > 0) {
          log.warn("ended {} session(s) of an earlier attempt of {} on {}", rs.getInt(1), app, side.describe());
        }
      }
      return c;
    } catch (SQLException e) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Failing anyway.
      }
      throw Databases.failure(side, e);
    }
  }

  private interface SqlWork<T> {
    T run() throws SQLException;
  }

  /**
   * Runs {@code work} on the copier's thread, heartbeating every second meanwhile. When a
   * heartbeat throws (the activity was cancelled, or timed out), the statements running on both
   * servers are cancelled and the exception goes on: the transaction rolls back.
   */
  private <T> T runOn(ExecutorService thread, ActivityExecutionContext context, Session session, Progress progress, SqlWork<T> work) {
    Future<T> future = thread.submit(work::run);
    while (true) {
      try {
        return future.get(TICK.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException stillWorking) {
        try {
          context.heartbeat(progress == null ? null : withCurrent(progress, session.current));
        } catch (RuntimeException cancelled) {
          session.cancel();
          future.cancel(true);
          throw cancelled;
        }
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof SQLException sql) {
          throw session.failure(sql);
        }
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        session.cancel();
        throw Activity.wrap(e);
      }
    }
  }

  private static Progress withCurrent(Progress p, String current) {
    return Progress.of(p.tablesDone(), p.tablesTotal(), p.bytes(), current);
  }

  private static String describe(Work work) {
    if (work instanceof CheckTable c) {
      return "checking table " + c.tableId();
    }
    if (work instanceof BuildIndex b) {
      return "building index " + b.name();
    }
    CopyChunk c = (CopyChunk) work;
    return "copying table " + c.chunk().tableId() + " chunk " + c.chunk().n();
  }

  /** One copier's connections and what it works on. */
  private final class Session {
    final CopyJob job;
    final String me;
    final String schema;
    final Connection book;
    final Connection data;
    final Connection source;
    String snapshot;
    String visibility;
    /** {@link CopyBook#CHECKSUM_WORKER} or {@link CopyBook#CHECKSUM_SOURCE}. */
    String checksum;
    final RecordText recordText = new RecordText();
    volatile String current;
    boolean superseded;

    Session(CopyJob job, String me, Connection book, Connection data, Connection source) {
      this.job = job;
      this.me = me;
      this.schema = job.schema();
      this.book = book;
      this.data = data;
      this.source = source;
    }

    /**
     * Whether the plan for this copier's epoch is in the bookkeeping; notes that a later epoch
     * began ({@link #superseded}).
     */
    boolean planned() throws SQLException {
      if (!CopyBook.exists(book, schema)) {
        return false;
      }
      int epoch = CopyBook.state(book, schema, "epoch").map(Integer::parseInt).orElse(0);
      superseded = epoch > job.epoch();
      return epoch == job.epoch() && CopyBook.state(book, schema, "planned").isPresent();
    }

    void prepare() throws SQLException {
      CopySessions.prepareTarget(book);
      CopySessions.prepareTarget(data);
      CopySessions.prepareSource(source);
      snapshot =
          CopyBook.state(book, schema, CopyBook.snapshotKey(job.epoch()))
              .orElseThrow(() -> ApplicationFailure.newFailure(
                  "the copy's snapshot for epoch " + job.epoch() + " is not published", Errors.STEP_FAILED));
      visibility = CopyBook.state(book, schema, CopyBook.visibilityKey(job.epoch())).orElseThrow();
      checksum = CopyBook.state(book, schema, "checksum").orElse(CopyBook.CHECKSUM_SOURCE);
    }

    RuntimeException failure(SQLException e) {
      if (CopySessions.snapshotGone(e)) {
        // The holder ended: the workflow sees it within the holder's heartbeat timeout and
        // continues from a new snapshot. Until then this copier retries.
        return ApplicationFailure.newFailure(
            "the copy's snapshot " + snapshot + " is gone (its holder ended); the run continues from a new one",
            Errors.DATABASE_UNREACHABLE);
      }
      if (e instanceof SourceError source) {
        return Databases.failure(job.source(), source.cause());
      }
      return Databases.failure(job.target(), e);
    }

    void cancel() {
      for (Connection c : List.of(source, data, book)) {
        try {
          c.unwrap(PGConnection.class).cancelQuery();
        } catch (SQLException ignored) {
          // Nothing running, or the connection is gone: nothing loads the server either way.
        }
      }
    }

    // ---- claiming -------------------------------------------------------------------------------

    /** The next piece of work, claimed; {@code null} when none can be taken now. */
    Work claim() throws SQLException {
      book.setAutoCommit(false);
      try {
        try (Statement s = book.createStatement();
            ResultSet rs = s.executeQuery("SELECT v FROM " + schema + ".state WHERE k = 'epoch' FOR SHARE")) {
          if (!rs.next() || Integer.parseInt(rs.getString(1)) != job.epoch()) {
            superseded = true;
            book.commit();
            return null;
          }
        }
        Work work = claimCheck();
        if (work == null) {
          work = claimIndex();
        }
        if (work == null) {
          work = claimChunk();
        }
        book.commit();
        return work;
      } catch (SQLException | RuntimeException e) {
        book.rollback();
        throw e;
      } finally {
        book.setAutoCommit(true);
      }
    }

    private Work claimCheck() throws SQLException {
      try (PreparedStatement ps =
          book.prepareStatement(
              "UPDATE " + schema + ".tables SET owner = ? WHERE id = ("
                  + " SELECT t.id FROM " + schema + ".tables t WHERE t.state = 'copied' AND (t.owner IS NULL OR t.owner = ?)"
                  // The check reads the whole table: it runs beside the index builds, unless it
                  // must find differing key ranges over the key's index.
                  + " AND (NOT t.check_after_indexes OR NOT EXISTS (SELECT 1 FROM " + schema
                  + ".indexes i WHERE i.table_id = t.id AND i.state <> 'built'))"
                  + " ORDER BY t.owner IS NULL, t.bytes DESC, t.id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id")) {
        ps.setString(1, me);
        ps.setString(2, me);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? new CheckTable(rs.getInt(1)) : null;
        }
      }
    }

    private Work claimIndex() throws SQLException {
      try (PreparedStatement ps =
          book.prepareStatement(
              "UPDATE " + schema + ".indexes SET owner = ? WHERE id = ("
                  + " SELECT i.id FROM " + schema + ".indexes i JOIN " + schema + ".tables t ON t.id = i.table_id"
                  // Its table's data is in (checked or not: the check runs beside the builds).
                  + " WHERE i.state = 'pending' AND t.state IN ('copied', 'checked') AND (i.owner IS NULL OR i.owner = ?)"
                  + " ORDER BY i.owner IS NULL, t.bytes DESC, i.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED)"
                  + " RETURNING id, table_id, name, create_sql")) {
        ps.setString(1, me);
        ps.setString(2, me);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? new BuildIndex(rs.getInt(1), rs.getInt(2), rs.getString(3), rs.getString(4)) : null;
        }
      }
    }

    private Work claimChunk() throws SQLException {
      try (PreparedStatement ps =
          book.prepareStatement(
              "UPDATE " + schema + ".chunks SET owner = ? WHERE (table_id, n) = ("
                  + " SELECT c.table_id, c.n FROM " + schema + ".chunks c JOIN " + schema + ".tables t ON t.id = c.table_id"
                  + " WHERE c.state = 'pending' AND (c.owner IS NULL OR c.owner = ?)"
                  + " ORDER BY c.owner IS NULL, t.bytes DESC, c.table_id, c.n LIMIT 1 FOR UPDATE OF c SKIP LOCKED)"
                  + " RETURNING table_id, n, lower, upper")) {
        ps.setString(1, me);
        ps.setString(2, me);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return null;
          }
          return new CopyChunk(new Chunk(rs.getInt(1), rs.getInt(2), (Long) rs.getObject(3), (Long) rs.getObject(4)));
        }
      }
    }

    /** Every table checked and every index built: nothing left for any copier. */
    boolean allChecked() throws SQLException {
      try (Statement s = book.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT (SELECT count(*) FROM " + schema + ".tables WHERE state <> 'checked')"
                      + " + (SELECT count(*) FROM " + schema + ".indexes WHERE state <> 'built')")) {
        rs.next();
        return rs.getLong(1) == 0;
      }
    }

    Progress progress() throws SQLException {
      try (Statement s = book.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT (SELECT count(*) FROM " + schema + ".tables WHERE state = 'checked'),"
                      + " (SELECT count(*) FROM " + schema + ".tables),"
                      + " (SELECT coalesce(sum(bytes), 0) FROM " + schema + ".chunks WHERE state = 'copied')")) {
        rs.next();
        return Progress.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), current);
      }
    }

    // ---- doing ----------------------------------------------------------------------------------

    Void perform(Work work) throws SQLException {
      if (work instanceof CopyChunk c) {
        copyChunk(c.chunk());
      } else if (work instanceof BuildIndex b) {
        buildIndex(b);
      } else if (work instanceof CheckTable c) {
        check(c.tableId());
      }
      return null;
    }

    TableRow table(int id) throws SQLException {
      try (PreparedStatement ps =
          book.prepareStatement(
              "SELECT t.id, t.nspname, t.relname, t.copy_columns, t.read_columns, t.generated, t.split_column,"
                  + " (SELECT count(*) FROM " + schema + ".chunks c WHERE c.table_id = t.id), t.columns"
                  + " FROM " + schema + ".tables t WHERE t.id = ?")) {
        ps.setInt(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          List<Integer> generated = new ArrayList<>();
          Array array = rs.getArray(6);
          if (array != null) {
            for (Integer i : (Integer[]) array.getArray()) {
              generated.add(i);
            }
          }
          return new TableRow(
              rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), generated, rs.getString(7),
              rs.getInt(8), rs.getInt(9));
        }
      }
    }

    /** Copies a chunk and marks it copied in one transaction; the table's last one marks the table. */
    private void copyChunk(Chunk chunk) throws SQLException {
      TableRow table = table(chunk.tableId());
      data.setAutoCommit(false);
      try {
        RowHash hash = stream(table, chunk, false);
        try (PreparedStatement ps =
            data.prepareStatement(
                "UPDATE " + schema + ".chunks SET state = 'copied', epoch = ?, rows = ?, bytes = ?, hash_high = ?,"
                    + " hash_low = ? WHERE table_id = ? AND n = ? AND owner = ? AND state = 'pending'")) {
          ps.setInt(1, job.epoch());
          ps.setLong(2, hash.rows());
          ps.setLong(3, hash.bytes());
          ps.setLong(4, hash.high());
          ps.setLong(5, hash.low());
          ps.setInt(6, chunk.tableId());
          ps.setInt(7, chunk.n());
          ps.setString(8, me);
          if (ps.executeUpdate() != 1) {
            // Taken from this copier (a new epoch began): its rows go with the rollback.
            data.rollback();
            return;
          }
        }
        // One at a time per table, so that the copier of the last chunk sees every other one.
        try (PreparedStatement lock = data.prepareStatement("SELECT 1 FROM " + schema + ".tables WHERE id = ? FOR UPDATE")) {
          lock.setInt(1, chunk.tableId());
          lock.executeQuery().close();
        }
        try (PreparedStatement ps =
            data.prepareStatement(
                "UPDATE " + schema + ".tables SET state = 'copied', snapshot = ? WHERE id = ? AND state = 'copying'"
                    + " AND NOT EXISTS (SELECT 1 FROM " + schema + ".chunks WHERE table_id = ? AND state = 'pending')")) {
          ps.setString(1, visibility);
          ps.setInt(2, chunk.tableId());
          ps.setInt(3, chunk.tableId());
          ps.executeUpdate();
        }
        data.commit();
      } catch (SQLException | RuntimeException e) {
        data.rollback();
        throw e;
      } finally {
        data.setAutoCommit(true);
      }
    }

    /**
     * Streams a chunk from the source at the snapshot into the target, inside the target's
     * current transaction, summing the checksum the source computed for each row as it passes. A
     * table copied whole is truncated first
     * and loaded with {@code FREEZE} (its rows need no later visibility work); a chunk copied
     * again ({@code replace}: its check differed) first deletes its range, over the key's index.
     */
    private RowHash stream(TableRow table, Chunk chunk, boolean replace) throws SQLException {
      boolean whole = chunk.lower() == null && chunk.upper() == null && table.whole();
      if (whole) {
        try (Statement s = data.createStatement()) {
          s.execute("TRUNCATE ONLY " + table.sql());
        }
      } else if (replace) {
        try (Statement s = data.createStatement()) {
          s.execute("DELETE FROM ONLY " + table.sql() + where(table, chunk));
        }
      }
      boolean lines = CopyBook.CHECKSUM_WORKER.equals(checksum);
      String from;
      if (!lines) {
        // Each row with the verification's checksum, computed by the source as it reads the row.
        from =
            "COPY (SELECT " + (table.readColumns().isEmpty() ? "" : table.readColumns() + ", ") + ROW_CHECKSUM
                + " FROM ONLY " + table.sql() + " ferry_row" + where(table, chunk) + ") TO STDOUT";
      } else if (whole && table.generated().isEmpty()) {
        from = "COPY " + table.sql() + columns(table.readColumns()) + " TO STDOUT";
      } else {
        from =
            "COPY (SELECT " + table.readColumns() + " FROM ONLY " + table.sql() + where(table, chunk) + ") TO STDOUT";
      }
      String into = "COPY " + table.sql() + columns(table.copyColumns()) + " FROM STDIN" + (whole ? " WITH (FREEZE)" : "");
      try {
        CopySessions.importSnapshot(source, snapshot);
      } catch (SQLException e) {
        throw new SourceError(e);
      }
      RowHash hash = new RowHash();
      CopyIn in = null;
      CopyOut out = null;
      try {
        CopyManager targetCopy = data.unwrap(PGConnection.class).getCopyAPI();
        CopyManager sourceCopy = source.unwrap(PGConnection.class).getCopyAPI();
        in = targetCopy.copyIn(into);
        try {
          out = sourceCopy.copyOut(from);
        } catch (SQLException e) {
          throw new SourceError(e);
        }
        boolean[] strip = strip(table);
        byte[] buffer = new byte[WRITE_BUFFER];
        int filled = 0;
        byte[] row;
        while ((row = read(out)) != null) {
          int length;
          if (lines) {
            // The row's record text, rebuilt from the line: what the target checksums.
            length = row.length;
            byte[] text = recordText.of(row, length - 1, table.columns());
            hash.addRow(TextHash.hash(text, 0, recordText.length()), length);
          } else {
            length = takeChecksum(row, hash);
          }
          if (strip != null) {
            length = stripGenerated(row, length, strip);
          }
          if (filled + length > buffer.length) {
            in.writeToCopy(buffer, 0, filled);
            filled = 0;
          }
          if (length > buffer.length) {
            in.writeToCopy(row, 0, length);
          } else {
            System.arraycopy(row, 0, buffer, filled, length);
            filled += length;
          }
        }
        out = null;
        if (filled > 0) {
          in.writeToCopy(buffer, 0, filled);
        }
        long inserted = in.endCopy();
        in = null;
        if (inserted != hash.rows()) {
          throw ApplicationFailure.newNonRetryableFailure(
              job.target().describe() + ": " + table.display() + " took " + inserted + " of the " + hash.rows()
                  + " rows sent in " + range(table, chunk),
              Errors.VERIFICATION_FAILED);
        }
        CopySessions.release(source);
        return hash;
      } finally {
        if (out != null && out.isActive()) {
          try {
            out.cancelCopy();
          } catch (SQLException ignored) {
            // The rollback below ends it anyway.
          }
        }
        if (in != null && in.isActive()) {
          try {
            in.cancelCopy();
          } catch (SQLException ignored) {
            // The target's transaction rolls back.
          }
        }
        if (!source.getAutoCommit()) {
          CopySessions.release(source);
        }
      }
    }

    /** Builds one index and marks it built in one transaction. */
    private void buildIndex(BuildIndex index) throws SQLException {
      data.setAutoCommit(false);
      try (Statement s = data.createStatement()) {
        // As pg_restore runs it: names resolve only as written, fully qualified.
        s.execute("SELECT pg_catalog.set_config('search_path', '', true)");
        s.execute(index.sql());
        try (PreparedStatement ps =
            data.prepareStatement(
                "UPDATE " + schema + ".indexes SET state = 'built' WHERE id = ? AND owner = ? AND state = 'pending'")) {
          ps.setInt(1, index.indexId());
          ps.setString(2, me);
          if (ps.executeUpdate() != 1) {
            data.rollback();
            return;
          }
        }
        data.commit();
      } catch (SQLException | RuntimeException e) {
        data.rollback();
        throw e;
      } finally {
        data.setAutoCommit(true);
      }
    }

    /**
     * Compares the target's rows of the table with what the chunks sent: the count and the sum of
     * the verification's row checksum, which the source computed as each row streamed out and the
     * target computes now over what it holds. A table that differs has its differing chunks copied
     * again (at most {@link CopyTuning#maxRecopies} times); one that still differs fails the copy,
     * naming the table and the key range.
     */
    private void check(int tableId) throws SQLException {
      TableRow table = table(tableId);
      while (true) {
        RowHash sent = sent(table, null);
        RowHash found = readBack(table, null);
        if (found.sameRowsAs(sent)) {
          try (PreparedStatement ps =
              book.prepareStatement(
                  "UPDATE " + schema + ".tables t SET state = 'checked', rows = ?, owner = NULL, checked_oid = "
                      + CopyBook.CURRENT_OID + " WHERE id = ? AND owner = ? AND state = 'copied'")) {
            ps.setLong(1, found.rows());
            ps.setInt(2, tableId);
            ps.setString(3, me);
            ps.executeUpdate();
          }
          return;
        }
        List<Chunk> all = chunks(tableId);
        if (all.size() > 1 && indexesPending(tableId)) {
          // Reading each key range back wants the key's index: check again once it is built.
          try (PreparedStatement ps =
              book.prepareStatement(
                  "UPDATE " + schema + ".tables SET check_after_indexes = true, owner = NULL WHERE id = ? AND owner = ?")) {
            ps.setInt(1, tableId);
            ps.setString(2, me);
            ps.executeUpdate();
          }
          return;
        }
        List<Chunk> differing = new ArrayList<>();
        List<String> described = new ArrayList<>();
        for (Chunk chunk : all) {
          RowHash s = sent(table, chunk);
          RowHash f = table.whole() ? found : readBack(table, chunk);
          if (!f.sameRowsAs(s)) {
            differing.add(chunk);
            described.add(range(table, chunk) + " (sent " + s.rows() + " rows, the target holds " + f.rows() + ")");
          }
        }
        int recopies = recopies(tableId);
        String snapshotOfTable = tableSnapshot(tableId);
        log.warn("copy {}: {} differs on the target after copying: {}", job.tag(), table.display(), String.join("; ", described));
        if (recopies >= tuning.maxRecopies() || differing.isEmpty()) {
          List<String> keyRanges = localize(table);
          throw ApplicationFailure.newNonRetryableFailure(
              table.display() + ": rows differ on the target after " + (recopies + 1) + " copies: "
                  + String.join("; ", described.isEmpty() ? List.of(range(table, null)) : described)
                  + (keyRanges.isEmpty() ? "" : "; by primary key: " + String.join("; ", keyRanges))
                  + ". Something on the target changes rows as they arrive (a trigger, a rule, another writer?)",
              Errors.VERIFICATION_FAILED);
        }
        if (!visibility.equals(snapshotOfTable)) {
          // Its rows came from a lost snapshot: copy the whole table again from this one.
          resetTable(table);
          return;
        }
        for (Chunk chunk : differing) {
          recopy(table, chunk);
        }
      }
    }

    /**
     * The verification's primary-key chunks of a table that differ, source at the snapshot: the
     * key ranges to look at. Best effort: empty when they cannot be read.
     */
    private List<String> localize(TableRow table) {
      try {
        CopySessions.importSnapshot(source, snapshot);
        return DatabaseChecks.differingRanges(
            source, data, new dev.ferry.activities.postgres.Catalog.Table(table.schema(), table.name()), 5);
      } catch (SQLException | RuntimeException e) {
        log.warn("could not narrow down where {} differs: {}", table.display(), e.getMessage());
        return List.of();
      } finally {
        try {
          if (!source.getAutoCommit()) {
            CopySessions.release(source);
          }
        } catch (SQLException ignored) {
          // The next import starts a new transaction anyway.
        }
      }
    }

    /** Empties a table and gives its chunks back to be copied at this epoch's snapshot. */
    private void resetTable(TableRow table) throws SQLException {
      data.setAutoCommit(false);
      try (Statement s = data.createStatement()) {
        s.execute("TRUNCATE ONLY " + table.sql());
        s.execute(
            "UPDATE " + schema + ".chunks SET state = 'pending', owner = NULL, epoch = NULL, rows = NULL, bytes = NULL,"
                + " hash_high = NULL, hash_low = NULL WHERE table_id = " + table.id());
        s.execute(
            "UPDATE " + schema + ".tables SET state = 'copying', snapshot = NULL, owner = NULL, recopies = recopies + 1"
                + " WHERE id = " + table.id());
        data.commit();
      } catch (SQLException | RuntimeException e) {
        data.rollback();
        throw e;
      } finally {
        data.setAutoCommit(true);
      }
    }

    private void recopy(TableRow table, Chunk chunk) throws SQLException {
      data.setAutoCommit(false);
      try {
        RowHash hash = stream(table, chunk, true);
        try (PreparedStatement ps =
            data.prepareStatement(
                "UPDATE " + schema + ".chunks SET rows = ?, bytes = ?, hash_high = ?, hash_low = ?, epoch = ?"
                    + " WHERE table_id = ? AND n = ?")) {
          ps.setLong(1, hash.rows());
          ps.setLong(2, hash.bytes());
          ps.setLong(3, hash.high());
          ps.setLong(4, hash.low());
          ps.setInt(5, job.epoch());
          ps.setInt(6, chunk.tableId());
          ps.setInt(7, chunk.n());
          ps.executeUpdate();
        }
        try (PreparedStatement ps =
            data.prepareStatement(
                "UPDATE " + schema + ".tables SET recopies = recopies + 1 WHERE id = ? AND owner = ? AND state = 'copied'")) {
          ps.setInt(1, chunk.tableId());
          ps.setString(2, me);
          if (ps.executeUpdate() != 1) {
            data.rollback();
            return;
          }
        }
        data.commit();
      } catch (SQLException | RuntimeException e) {
        data.rollback();
        throw e;
      } finally {
        data.setAutoCommit(true);
      }
    }

    private List<Chunk> chunks(int tableId) throws SQLException {
      List<Chunk> chunks = new ArrayList<>();
      try (PreparedStatement ps =
          book.prepareStatement("SELECT n, lower, upper FROM " + schema + ".chunks WHERE table_id = ? ORDER BY n")) {
        ps.setInt(1, tableId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            chunks.add(new Chunk(tableId, rs.getInt(1), (Long) rs.getObject(2), (Long) rs.getObject(3)));
          }
        }
      }
      return chunks;
    }

    private boolean indexesPending(int tableId) throws SQLException {
      try (PreparedStatement ps =
          book.prepareStatement("SELECT count(*) FROM " + schema + ".indexes WHERE table_id = ? AND state <> 'built'")) {
        ps.setInt(1, tableId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1) > 0;
        }
      }
    }

    private int recopies(int tableId) throws SQLException {
      try (PreparedStatement ps = book.prepareStatement("SELECT recopies FROM " + schema + ".tables WHERE id = ?")) {
        ps.setInt(1, tableId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    }

    private String tableSnapshot(int tableId) throws SQLException {
      try (PreparedStatement ps = book.prepareStatement("SELECT snapshot FROM " + schema + ".tables WHERE id = ?")) {
        ps.setInt(1, tableId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getString(1);
        }
      }
    }

    /** What the chunks of a table (or one chunk) sent, summed from their bookkeeping rows. */
    private RowHash sent(TableRow table, Chunk only) throws SQLException {
      RowHash sum = new RowHash();
      try (PreparedStatement ps =
          book.prepareStatement(
              "SELECT rows, bytes, hash_high, hash_low FROM " + schema + ".chunks WHERE table_id = ?"
                  + (only == null ? "" : " AND n = " + only.n()))) {
        ps.setInt(1, table.id());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sum.add(new RowHash(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
          }
        }
      }
      return sum;
    }

    /** The target's count and checksum sum of a table's rows (or of one chunk's), computed there. */
    private RowHash readBack(TableRow table, Chunk only) throws SQLException {
      try (Statement s = data.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*), coalesce(sum(" + ROW_CHECKSUM + "), 0) FROM ONLY " + table.sql() + " ferry_row"
                      + (only == null ? "" : where(table, only)))) {
        rs.next();
        return RowHash.of(rs.getLong(1), rs.getBigDecimal(2));
      }
    }
  }

  /**
   * The chunked verification's checksum of a row (see {@code ChunkChecksum}): 64 bits of its text,
   * under the copy's session settings, which fix the text on both sides alike.
   */
  static final String ROW_CHECKSUM = "hashtextextended(ROW(ferry_row.*)::text, 0)";

  /**
   * Takes the checksum off the end of a row as the source sent it ({@code …\t<checksum>\n}),
   * adds it to {@code hash}, and leaves the row as the target takes it, newline-ended; returns
   * its new length.
   */
  static int takeChecksum(byte[] row, RowHash hash) {
    int end = row.length - 1; // the newline
    int i = end - 1;
    while (i >= 0 && row[i] != '\t') {
      i--;
    }
    long checksum = 0;
    boolean negative = row[i + 1] == '-';
    for (int d = i + 1 + (negative ? 1 : 0); d < end; d++) {
      checksum = checksum * 10 + (row[d] - '0');
    }
    if (negative) {
      checksum = -checksum;
    }
    // Without columns, the row is the checksum alone: an empty line for the target.
    int length = i < 0 ? 0 : i;
    row[length] = '\n';
    hash.addRow(checksum, length + 1);
    return length + 1;
  }

  private static String columns(String list) {
    return list.isEmpty() ? "" : " (" + list + ")";
  }

  private static String where(TableRow table, Chunk chunk) {
    List<String> conditions = new ArrayList<>();
    if (chunk.lower() != null) {
      conditions.add(table.splitColumn() + " > " + chunk.lower());
    }
    if (chunk.upper() != null) {
      conditions.add(table.splitColumn() + " <= " + chunk.upper());
    }
    return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
  }

  /** {@code id > 10 and id <= 20}, for people; {@code whole table} when unsplit. */
  static String range(TableRow table, Chunk chunk) {
    if (chunk == null || (chunk.lower() == null && chunk.upper() == null)) {
      return "whole table";
    }
    List<String> parts = new ArrayList<>();
    if (chunk.lower() != null) {
      parts.add(table.splitColumn() + " > " + chunk.lower());
    }
    if (chunk.upper() != null) {
      parts.add(table.splitColumn() + " <= " + chunk.upper());
    }
    return String.join(" and ", parts);
  }

  /** Which fields of a row to drop before COPY FROM (generated columns), or {@code null}. */
  private static boolean[] strip(TableRow table) {
    if (table.generated().isEmpty()) {
      return null;
    }
    boolean[] drop = new boolean[Math.max(table.columns(), table.generated().stream().mapToInt(i -> i).max().orElse(0) + 1)];
    table.generated().forEach(i -> drop[i] = true);
    return drop;
  }

  /**
   * Drops the generated columns' fields from a row in place and returns its new length. In COPY's
   * text format a tab byte inside a value is written {@code \t}, so every tab byte separates two
   * fields.
   */
  static int stripGenerated(byte[] row, int length, boolean[] drop) {
    boolean newline = length > 0 && row[length - 1] == '\n';
    int end = newline ? length - 1 : length;
    int write = 0;
    int field = 0;
    int start = 0;
    boolean wrote = false;
    for (int i = 0; i <= end; i++) {
      if (i == end || row[i] == '\t') {
        if (field >= drop.length || !drop[field]) {
          if (wrote) {
            row[write++] = '\t';
          }
          System.arraycopy(row, start, row, write, i - start);
          write += i - start;
          wrote = true;
        }
        field++;
        start = i + 1;
      }
    }
    if (newline) {
      row[write++] = '\n';
    }
    return write;
  }

  /** A row from the source's COPY; its failure is the source's. */
  private static byte[] read(CopyOut out) throws SQLException {
    try {
      return out.readFromCopy();
    } catch (SQLException e) {
      throw new SourceError(e);
    }
  }

  /** A failure on the source's side of a copy, so that it names the source. */
  static final class SourceError extends SQLException {
    SourceError(SQLException cause) {
      super(cause.getMessage(), cause.getSQLState(), cause);
    }

    SQLException cause() {
      return (SQLException) getCause();
    }
  }

}

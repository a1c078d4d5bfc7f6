package dev.ferry.activities.sync;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.Pause;
import dev.ferry.activities.copy.CopyBook;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.SessionLock;
import dev.ferry.model.Errors;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trigger method (Bucardo-style change capture; works on Heroku, where no replication
 * privilege is granted): only table ownership on the source is needed.
 *
 * <ol>
 *   <li>start: install the capture ({@link TriggerCapture}) and commit it; then, in a
 *       repeatable-read transaction, export a snapshot and dump schema and data at exactly that
 *       snapshot; restore it; delete the captured changes the snapshot already saw. What remains
 *       captured is exactly what the copy missed.
 *   <li>apply: batches ({@link TriggerApply}) until cancelled, one applier at a time (an advisory
 *       lock on the target), heartbeating the lag and checking the schema every few seconds.
 *   <li>drain: with the source frozen, apply until nothing is pending; changes written after the
 *       drain began mean the source is not frozen, and fail it.
 *   <li>stop: drop triggers and Ferry's schema; nothing is left on the source. The frozen
 *       source's write fence lets it (the session carries the run's key); the drain needs no
 *       key: it writes only Ferry's own schema, which the fence leaves open. On the target,
 *       the same schema holds {@code applied}: each batch records there the changes it applied,
 *       in its own transaction, for a pre-verification ({@link TriggerChangeFeed}); stop drops it.
 * </ol>
 */
final class TriggerSync implements SyncMethod {
  private static final Logger log = LoggerFactory.getLogger(TriggerSync.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int BATCH = 5_000;
  /** State key: the capture is installed and the workflow streams the copy (see {@link #adoptCopy}). */
  private static final String CAPTURE_ONLY = "capture";
  private static final Duration IDLE = Duration.ofMillis(500);
  private static final Duration CHECK_EVERY = Duration.ofSeconds(2);
  /** The longest one statement of Ferry's DDL waits for a table lock. */
  static final Duration MAX_LOCK_WAIT = Duration.ofSeconds(10);
  /** How long installing or dropping the capture keeps trying for its locks before the attempt fails. */
  static final Duration LOCK_WAIT_BUDGET = Duration.ofSeconds(60);

  private final Databases databases;
  private final InitialCopy copy;
  private final Pause pause;
  private final int batch;
  private final Duration lockBudget;

  TriggerSync(Databases databases, InitialCopy copy) {
    this(databases, copy, Pause.SLEEP);
  }

  TriggerSync(Databases databases, InitialCopy copy, Pause pause) {
    this(databases, copy, pause, BATCH);
  }

  /** @param batch changes applied per batch (tests make batch edges fall where they want) */
  TriggerSync(Databases databases, InitialCopy copy, Pause pause, int batch) {
    this(databases, copy, pause, batch, LOCK_WAIT_BUDGET);
  }

  /**
   * @param lockBudget how long installing or dropping the capture keeps trying for its table
   *     locks, counted as the lock waits and pauses it spent ({@link #onLockTimeout})
   */
  TriggerSync(Databases databases, InitialCopy copy, Pause pause, int batch, Duration lockBudget) {
    this.databases = databases;
    this.copy = copy;
    this.pause = pause;
    this.batch = batch;
    this.lockBudget = lockBudget;
  }

  /**
   * Everything {@link #start} would refuse, found the same way, with nothing changed: a source
   * older than PostgreSQL 13, tables without a primary key, a role that may not create the
   * capture (CREATE on the database, owner of every table), large objects it may not read, a
   * target credential that may not turn foreign keys off while applying.
   */
  @Override
  public SyncCheck check(SyncSession s) {
    try (Connection c = databases.connect(s.source(), s.applicationName("ferry-sync-check"))) {
      return new SyncCheck(refusals(s, c), List.of());
    } catch (SQLException e) {
      throw Databases.failure(s.source(), e);
    }
  }

  private List<String> refusals(SyncSession s, Connection c) throws SQLException {
    List<String> reasons = new ArrayList<>();
    int version = c.getMetaData().getDatabaseMajorVersion();
    if (version < 13) {
      reasons.add("the trigger method needs PostgreSQL 13 or newer (xid8 transaction ids); the source runs " + version);
    }
    List<String> keyless = TriggerCapture.tablesWithoutKey(c, CapturedTable.read(c).values());
    if (!keyless.isEmpty()) {
      reasons.add(
          "the trigger method needs a primary key on every table; " + keyless.size() + " have none: "
              + String.join(", ", keyless.subList(0, Math.min(20, keyless.size()))) + (keyless.size() > 20 ? ", …" : "")
              + ". Add one, or migrate with strategy single-phase");
    }
    reasons.addAll(TriggerCapture.cannotInstall(c, s.source().url().user()));
    reasons.addAll(LargeObjects.unreadable(c));
    try (Connection t = databases.connect(s.target(), s.applicationName("ferry-sync-check"))) {
      TriggerApply.prepareTarget(t, s.target());
    } catch (ApplicationFailure e) {
      if (!Errors.SYNC_REFUSED.equals(e.getType())) {
        throw e;
      }
      reasons.add(e.getOriginalMessage());
    }
    return reasons;
  }

  @Override
  public SyncSetup start(SyncSession s) {
    Endpoint source = s.source();
    endOrphanedSetup(s);
    try (Connection c = databases.connect(source, s.applicationName("ferry-sync-setup"))) {
      TriggerApply.prepareSource(c);
      if (TriggerCapture.installed(c, s)) {
        var done = TriggerCapture.state(c, s, "setup");
        if (done.isPresent()) {
          log.info("the sync of {} was set up by an earlier attempt", s.workflowId());
          return JSON.readValue(done.get(), SyncSetup.class);
        }
        var captured = TriggerCapture.state(c, s, CAPTURE_ONLY);
        if (captured.isPresent() && s.request().streamsInitialCopy()) {
          // Installed by an earlier attempt, maybe with changes captured since: keep them.
          return JSON.readValue(captured.get(), SyncSetup.class);
        }
      }
      List<String> refused = refusals(s, c);
      if (!refused.isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            source.describe() + " cannot be synced with sync: trigger: " + String.join("; ", refused), Errors.SYNC_REFUSED);
      }
      Map<Long, CapturedTable> tables = CapturedTable.read(c);
      // An earlier attempt's capture is redone from scratch: its copy died with it.
      onLockTimeout(
          source, c, "removing an earlier attempt's change capture",
          (lockWait, beat) -> TriggerCapture.remove(c, s, lockWait, beat));
      onLockTimeout(
          source, c, "installing the change capture",
          (lockWait, beat) -> TriggerCapture.install(c, s, tables.values(), lockWait, beat));
      List<String> schema = SchemaWatch.describe(c);
      TriggerCapture.putState(c, s, "schema", String.join("\n", schema));
      if (s.request().streamsInitialCopy()) {
        // The workflow streams the copy from a snapshot taken after this commit; adoptCopy finishes.
        SyncSetup captured =
            new SyncSetup(
                tables.size(), 0,
                "trigger capture on " + tables.size() + " tables into " + s.schema() + " on the source; the copy follows");
        TriggerCapture.putState(c, s, CAPTURE_ONLY, JSON.writeValueAsString(captured));
        return captured;
      }
      long copiedTables = copyAtSnapshot(s, c, schema);
      long rows = analyzedRows(s, true);
      createAppliedRecord(s);
      SyncSetup setup =
          new SyncSetup(
              (int) copiedTables,
              rows,
              "trigger capture on " + tables.size() + " tables into " + s.schema() + " on the source; rows as ANALYZE counts them");
      TriggerCapture.putState(c, s, "setup", JSON.writeValueAsString(setup));
      return setup;
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Ends what an earlier attempt of this setup left running when its worker died: its pg_dump
   * (a separate process, which outlives the worker until it next prints a line: for the whole
   * copy of a big table) holds a lock on every table it dumps, so dropping that attempt's capture
   * would wait for it, and the app's writes would queue behind the waiting drop; its pg_restore
   * and its own sessions would race this attempt.
   */
  private void endOrphanedSetup(SyncSession s) {
    for (String prefix : List.of("ferry-sync-dump", "ferry-sync-snapshot", "ferry-sync-setup")) {
      int ended = databases.terminateSessions(s.source(), s.applicationName(prefix));
      if (ended > 0) {
        log.warn("ended {} session(s) of {} an earlier attempt left on the source", ended, s.applicationName(prefix));
      }
    }
    for (String prefix : List.of("ferry-sync-restore", "ferry-sync-setup")) {
      int ended = databases.terminateSessions(s.target(), s.applicationName(prefix));
      if (ended > 0) {
        log.warn("ended {} session(s) of {} an earlier attempt left on the target", ended, s.applicationName(prefix));
      }
    }
  }

  /**
   * Dumps at an exported snapshot taken after the capture was committed, restores, and drops
   * the changes that snapshot already held: a change is kept only when its transaction is not
   * visible to the snapshot, so it is exactly what the copy lacks.
   */
  private long copyAtSnapshot(SyncSession s, Connection c, List<String> schema) throws SQLException {
    Path dump;
    String snapshot;
    try (Connection held = databases.connect(s.source(), s.applicationName("ferry-sync-snapshot"))) {
      held.setAutoCommit(false);
      held.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try (Statement st = held.createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_export_snapshot(), pg_current_snapshot()::text")) {
        rs.next();
        String exported = rs.getString(1);
        snapshot = rs.getString(2);
        // A schema change between the capture and the snapshot would copy a table the capture
        // does not match.
        SchemaWatch.check(s.source(), schema, SchemaWatch.describe(held));
        dump = copy.dump(s, false, exported);
      }
      held.commit();
    }
    try {
      long tables = copy.restore(s, dump);
      try (var ps =
          c.prepareStatement("DELETE FROM " + s.schema() + ".changes WHERE pg_visible_in_snapshot(xid, ?::pg_snapshot)")) {
        ps.setString(1, snapshot);
        int seen = ps.executeUpdate();
        log.info("{} changes captured before the copy's snapshot were in the copy", seen);
      }
      return tables;
    } finally {
      copy.discard(dump);
    }
  }

  /**
   * After the workflow streamed the copy: each table's captured changes that the snapshot its
   * rows were read at already saw are dropped, table by table (a table a lost snapshot's copy had
   * finished keeps that snapshot). What remains captured is exactly what the copy lacks.
   */
  @Override
  public SyncSetup adoptCopy(SyncSession s, String copyKey) {
    Endpoint source = s.source();
    try (Connection c = databases.connect(source, s.applicationName("ferry-sync-setup"))) {
      var done = TriggerCapture.state(c, s, "setup");
      if (done.isPresent()) {
        return JSON.readValue(done.get(), SyncSetup.class);
      }
      if (TriggerCapture.state(c, s, CAPTURE_ONLY).isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            source.describe() + ": no capture of this sync to adopt a copy into (" + s.schema() + ")", Errors.SYNC_REFUSED);
      }
      // A schema change between the capture and the copy would have copied a table the capture does not match.
      List<String> schema = List.of(TriggerCapture.state(c, s, "schema").orElse("").split("\n"));
      SchemaWatch.check(source, schema, SchemaWatch.describe(c));
      Map<Long, String> copied;
      try (Connection t = databases.connect(s.target(), s.applicationName("ferry-sync-setup"))) {
        if (!CopyBook.allChecked(t, copyKey)) {
          throw ApplicationFailure.newFailure(
              s.target().describe() + ": the copy is not finished; its tables are not all checked", Errors.STEP_FAILED);
        }
        copied = CopyBook.copiedTables(t, copyKey);
      }
      Map<String, List<Long>> bySnapshot = new java.util.TreeMap<>();
      copied.forEach((oid, snapshot) -> bySnapshot.computeIfAbsent(snapshot, k -> new java.util.ArrayList<>()).add(oid));
      int seen = 0;
      try (var ps =
          c.prepareStatement(
              "DELETE FROM " + s.schema() + ".changes WHERE rel = ANY(?::oid[])"
                  + " AND pg_visible_in_snapshot(xid, ?::pg_snapshot)")) {
        for (Map.Entry<String, List<Long>> e : bySnapshot.entrySet()) {
          ps.setArray(1, c.createArrayOf("bigint", e.getValue().toArray()));
          ps.setString(2, e.getKey());
          seen += ps.executeUpdate();
        }
      }
      log.info("{} changes captured before the copy's snapshot(s) were in the copy", seen);
      // The copy's finish analyzed the target: ANALYZE again would only repeat it.
      long rows = analyzedRows(s, false);
      // As after a dumped copy: the applier records what it applies there (the pre-verification reads it).
      createAppliedRecord(s);
      SyncSetup setup =
          new SyncSetup(
              copied.size(),
              rows,
              "trigger capture into " + s.schema() + " on the source; " + copied.size() + " tables streamed from "
                  + bySnapshot.size() + " snapshot(s); rows as ANALYZE counts them");
      TriggerCapture.putState(c, s, "setup", JSON.writeValueAsString(setup));
      return setup;
    } catch (SQLException e) {
      throw Databases.failure(source, e);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Counts the target's rows as its statistics show them: exact for small tables, an estimate
   * for big ones; with {@code analyze}, gives it those statistics first (pg_restore does not).
   */
  private long analyzedRows(SyncSession s, boolean analyze) {
    try (Connection t = databases.connect(s.target(), s.applicationName("ferry-sync-setup"));
        Statement st = t.createStatement()) {
      if (analyze) {
        st.execute("ANALYZE");
      }
      try (ResultSet rs =
          st.executeQuery(
              "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
                  + dev.ferry.activities.postgres.Catalog.USER_RELATION_FILTER)) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw Databases.failure(s.target(), e);
    }
  }

  /** The record of applied changes on the target ({@link TriggerApply}), made once the restore filled it. */
  private void createAppliedRecord(SyncSession s) {
    try (Connection t = databases.connect(s.target(), s.applicationName("ferry-sync-setup"));
        Statement st = t.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS " + s.schema());
      st.execute("COMMENT ON SCHEMA " + s.schema() + " IS 'Ferry: changes a sync under way applied; dropped when it ends'");
      st.execute(
          "CREATE TABLE IF NOT EXISTS " + s.schema() + ".applied (nspname text NOT NULL, relname text NOT NULL,"
              + " key text[] NOT NULL, xid xid8 NOT NULL)");
    } catch (SQLException e) {
      throw Databases.failure(s.target(), e);
    }
  }

  @Override
  public void apply(SyncSession s) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String app = s.applicationName("ferry-sync-apply");
    try (Connection source = databases.connect(s.source(), app);
        Connection target = databases.connect(s.target(), app)) {
      Applier applier = applier(s, source, target);
      lockApplier(s, target, () -> context.heartbeat(null));
      Instant nextCheck = Instant.EPOCH;
      SyncLag lag = null;
      while (true) {
        // The schema and the lag every few seconds, not every batch: counting a backlog of
        // millions of changes after each batch would slow the apply down.
        if (Instant.now().isAfter(nextCheck)) {
          SchemaWatch.check(s.source(), applier.schema, SchemaWatch.describe(source));
          lag = measure(s, source);
          nextCheck = Instant.now().plus(CHECK_EVERY);
        }
        TriggerApply.Batch batch = applier.apply.applyOne(source, target);
        // Heartbeating is how a cancel (the drain is next) reaches this loop.
        context.heartbeat(lag);
        if (batch.changes() < this.batch) {
          pause.pause(IDLE);
        }
      }
    } catch (SQLException e) {
      throw Databases.failure(s.source(), e);
    }
  }

  @Override
  public SyncLag lag(SyncSession s) {
    try (Connection c = databases.connect(s.source(), s.applicationName("ferry-sync-lag"))) {
      return measure(s, c);
    } catch (SQLException e) {
      throw Databases.failure(s.source(), e);
    }
  }

  /** Changes written after the drain began: the source is not frozen (final). */
  private static void failUnlessFrozen(SyncSession s, long lateChanges) {
    if (lateChanges > 0) {
      throw ApplicationFailure.newNonRetryableFailure(
          s.source().describe() + ": " + lateChanges + " changes were written after the drain began; the source is not"
              + " frozen (a session that turned default_transaction_read_only off?)",
          Errors.SOURCE_NOT_FROZEN);
    }
  }

  @Override
  public SyncLag drain(SyncSession s, AtTheDrain atTheEnd) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    String app = s.applicationName("ferry-sync-apply");
    long t0 = System.nanoTime();
    try (Connection source = databases.connect(s.source(), app);
        Connection target = databases.connect(s.target(), app)) {
      long connected = System.nanoTime();
      Applier applier = applier(s, source, target);
      lockApplier(s, target, () -> context.heartbeat(null));
      Instant began = sourceNow(source);
      String firstAfterStart = newTransactionId(source);
      SchemaWatch.check(s.source(), applier.schema, SchemaWatch.describe(source));
      long[] late = {0};
      long[] drained = {0};
      Runnable drainAll =
          () -> {
            while (true) {
              TriggerApply.Batch batch = applier.apply.applyOne(source, target);
              if (batch.changes() == 0) {
                return;
              }
              drained[0] += batch.changes();
              if (batch.newest() != null && batch.newest().isAfter(began)) {
                // Not frozen: draining on would chase the app's writes, for ever if it outpaces it.
                late[0] += batch.changes();
                return;
              }
              context.heartbeat(drained[0]);
            }
          };
      long setUp = System.nanoTime();
      drainAll.run();
      failUnlessFrozen(s, late[0]);
      long firstPass = System.nanoTime();
      // A transaction that wrote before the freeze and commits after the last empty batch
      // (a session the freeze could not end) would be lost: wait until every transaction that
      // was writing when the drain began has ended, then drain what they committed.
      awaitWritersEnded(s, source, firstAfterStart, () -> context.heartbeat(drained[0]));
      long writers = System.nanoTime();
      drainAll.run();
      SchemaWatch.check(s.source(), applier.schema, SchemaWatch.describe(source));
      log.info(
          "drained {} changes in {} ms: connecting {} ms, set-up and schema check {} ms, applying {} ms, writers' end {} ms,"
              + " last pass and schema check {} ms",
          drained[0], ms(System.nanoTime() - t0), ms(connected - t0), ms(setUp - connected), ms(firstPass - setUp),
          ms(writers - firstPass), ms(System.nanoTime() - writers));
      failUnlessFrozen(s, late[0]);
      // The initial copy's dump carried them; what changed since, only this pass does.
      LargeObjects.Carried largeObjects = LargeObjects.carryOn(s, source, target, () -> context.heartbeat(drained[0]));
      log.info("trigger sync of {} drained: {} change(s); {}", s.workflowId(), drained[0], largeObjects);
      atTheEnd.run(source, target);
      return measure(s, source);
    } catch (SQLException e) {
      throw Databases.failure(s.source(), e);
    }
  }

  @Override
  public void stop(SyncSession s) {
    // A dead worker's applier may still hold its sessions; end them so nothing writes after.
    databases.terminateSessionsQuietly(s.source(), s.applicationName("ferry-sync-apply"));
    databases.terminateSessionsQuietly(s.target(), s.applicationName("ferry-sync-apply"));
    // At decommission the source is frozen: dropping the capture triggers is DDL, which the
    // write fence's event trigger (a superuser's credential) refuses to any session but the run's.
    try (Connection c = databases.connectPastFence(s.source(), s.applicationName("ferry-sync-teardown"), s.workflowId())) {
      TriggerApply.prepareSource(c);
      onLockTimeout(
          s.source(), c, "removing the change capture", (lockWait, beat) -> TriggerCapture.remove(c, s, lockWait, beat));
    } catch (SQLException e) {
      throw Databases.failure(s.source(), e);
    }
    try (Connection t = databases.connect(s.target(), s.applicationName("ferry-sync-teardown"));
        Statement st = t.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + s.schema() + " CASCADE");
    } catch (SQLException e) {
      throw Databases.failure(s.target(), e);
    } catch (ApplicationFailure e) {
      // A target database that no longer exists holds no record.
      if (!Errors.DATABASE_NOT_FOUND.equals(e.getType())) {
        throw e;
      }
    }
  }

  /** What an applier needs, read once per attempt. */
  private record Applier(TriggerApply apply, List<String> schema) {}

  private Applier applier(SyncSession s, Connection source, Connection target) throws SQLException {
    TriggerApply.prepareSource(source);
    TriggerApply.prepareTarget(target, s.target());
    if (!TriggerCapture.installed(source, s)) {
      throw ApplicationFailure.newNonRetryableFailure(
          s.source().describe() + ": the change capture " + s.schema() + " is gone (dropped by hand?); changes since"
              + " then are lost to the sync, start the migration again",
          Errors.SCHEMA_CHANGED);
    }
    List<String> schema = List.of(TriggerCapture.state(source, s, "schema").orElse("").split("\n"));
    return new Applier(new TriggerApply(s, CapturedTable.read(source), batch), schema);
  }

  /**
   * One applier at a time: a session advisory lock on the target, held until the connection
   * closes. An attempt whose worker died still holds it until its connection drops.
   */
  private void lockApplier(SyncSession s, Connection target, Runnable heartbeat) throws SQLException {
    new SessionLock("hashtext(?)", s.schema()).take(target, 0, IDLE, pause, heartbeat);
  }

  private static SyncLag measure(SyncSession s, Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                // The oldest change by id (the primary key's index), not min(at): no full scan.
                "SELECT (SELECT count(*) FROM " + s.schema() + ".changes),"
                    + " coalesce((extract(epoch FROM clock_timestamp() - (SELECT at FROM " + s.schema()
                    + ".changes ORDER BY id LIMIT 1)) * 1000)::bigint, 0), clock_timestamp()")) {
      rs.next();
      return new SyncLag(rs.getLong(1), -1, Math.max(0, rs.getLong(2)), rs.getTimestamp(3).toInstant());
    }
  }

  /** How long the drain waits for transactions that were writing when it began. */
  static final Duration WRITERS_WAIT = Duration.ofSeconds(60);

  /**
   * A transaction id assigned (and committed) now: every transaction that was writing before
   * has a smaller one. (A snapshot's own xmax will not do: a running transaction newer than the
   * last completed one is in no snapshot's list.)
   */
  private static String newTransactionId(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Waits until no transaction with an id below {@code xid} is still open (the oldest running
   * one is past it); read-only sessions hold no id and do not count. Fails {@code
   * SourceNotFrozen}, naming the sessions, when they stay open.
   */
  private void awaitWritersEnded(SyncSession s, Connection source, String xid, Runnable heartbeat) throws SQLException {
    long deadline = System.nanoTime() + WRITERS_WAIT.toNanos();
    try (var ps = source.prepareStatement("SELECT pg_snapshot_xmin(pg_current_snapshot()) > ?::xid8")) {
      ps.setString(1, xid);
      while (true) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw ApplicationFailure.newNonRetryableFailure(
              s.source().describe() + ": transactions that were writing when the drain began are still open after "
                  + WRITERS_WAIT.toSeconds() + " s (" + writers(source, xid) + "); the source is not frozen:"
                  + " end those sessions and retry the run",
              Errors.SOURCE_NOT_FROZEN);
        }
        heartbeat.run();
        pause.pause(Duration.ofMillis(100));
      }
    }
  }

  private static String writers(Connection source, String xid) throws SQLException {
    List<String> who = new java.util.ArrayList<>();
    try (var ps =
        source.prepareStatement(
            "SELECT coalesce(usename, '?') || '@' || coalesce(client_addr::text, 'local') || ' pid ' || pid"
                + " FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
                // backend_xid is the 32-bit id: compare within the current epoch.
                + " AND backend_xid::text::bigint < ?::xid8::text::bigint % 4294967296")) {
      ps.setString(1, xid);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          who.add(rs.getString(1));
        }
      }
    }
    return who.isEmpty() ? "sessions not visible to this role" : String.join(", ", who);
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  private static Instant sourceNow(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  /** DDL that takes table locks, waiting at most {@code lockWait} for each and calling {@code beat} between statements. */
  private interface SqlWork {
    void run(Duration lockWait, Runnable beat) throws SQLException;
  }

  /**
   * Runs DDL that takes table locks (installing or dropping the capture) on a source whose app
   * may hold them in long transactions: each statement waits at most {@link #lockWait} for a
   * lock ({@code lock_timeout}), and on a timeout (or a deadlock) the work heartbeats, pauses and
   * starts again. A statement waiting for a lock cannot heartbeat: one that waited longer than
   * the activity's heartbeat timeout would have its attempt timed out by Temporal while it still
   * waited, and retried beside itself. Short waits also keep the app's queries, queued behind
   * Ferry's waiting DDL, from stalling for long.
   *
   * <p>The waits and pauses are counted, not read off the clock, so the number of tries does not
   * depend on how fast the machine is, and a test's pause that returns at once spends the budget
   * too. A failed try counts one full lock wait: the statement that timed out (the statements
   * before it in the same try, which got their locks, are not counted; a deadlock, which may end
   * sooner, counts a full wait too). It gives up rather than pause and try again when that would
   * pass {@link #lockBudget} (60 s: five tries of 10 s with their pauses): the attempt fails as
   * {@link Errors#SOURCE_BUSY} (Temporal tries the step again later), naming the sessions that
   * hold the app's tables: what the SRE has to end or wait for.
   */
  private void onLockTimeout(Endpoint source, Connection c, String doing, SqlWork work) throws SQLException {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Duration lockWait = lockWait(context.getInfo().getHeartbeatTimeout());
    Runnable beat = () -> context.heartbeat(null);
    Duration spent = Duration.ZERO;
    for (int attempt = 1; ; attempt++) {
      try {
        work.run(lockWait, beat);
        return;
      } catch (SQLException e) {
        boolean busy = "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
        if (!busy) {
          throw e;
        }
        spent = spent.plus(lockWait);
        Duration backOff = Duration.ofSeconds(Math.min(attempt, 5));
        Duration pauseFor = backOff.compareTo(lockWait) < 0 ? backOff : lockWait;
        String reason = Databases.firstLine(e.getMessage());
        if (spent.plus(pauseFor).plus(lockWait).compareTo(lockBudget) > 0) {
          throw ApplicationFailure.newFailure(
              source.describe() + ": " + doing + " waited " + seconds(spent) + " s in all (" + attempt
                  + " tries) for table locks the app holds (" + reason + "); sessions holding locks on the app's"
                  + " tables: " + TriggerCapture.lockHolders(c) + ". End those transactions or let them finish:"
                  + " the step is tried again",
              Errors.SOURCE_BUSY);
        }
        log.warn("{}: {}: waited too long for a table lock ({}), trying again", source.describe(), doing, reason);
        beat.run();
        spent = spent.plus(pauseFor);
        pause.pause(pauseFor);
      }
    }
  }

  /** A duration in seconds, to the tenth. */
  private static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toMillis(), 3).setScale(1, java.math.RoundingMode.HALF_UP).toPlainString();
  }

  /**
   * How long one statement may wait for a lock: a third of the activity's heartbeat timeout,
   * {@link #MAX_LOCK_WAIT} at most (and without a heartbeat timeout), so that a wait and the
   * pause after it end before the heartbeat is due.
   */
  static Duration lockWait(Duration heartbeatTimeout) {
    if (heartbeatTimeout == null || heartbeatTimeout.isZero() || heartbeatTimeout.isNegative()) {
      return MAX_LOCK_WAIT;
    }
    Duration third = heartbeatTimeout.dividedBy(3);
    return third.compareTo(MAX_LOCK_WAIT) < 0 ? third : MAX_LOCK_WAIT;
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog.Table;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous sync by native logical replication: a publication of every app table on the
 * source, a subscription on the target that copies them and then streams their changes through
 * its own replication slot on the source. For sources that allow it (wal_level logical and the
 * REPLICATION privilege: RDS, self-hosted; not Heroku).
 *
 * <p>Everything it installs is named after the run ({@link SyncSession}), so every attempt on
 * any worker finds its own objects: setup reuses them, teardown removes them. The one thing that
 * must never outlive a run is the replication slot: the source keeps every byte of WAL the slot
 * has not confirmed, and an orphaned slot fills its disk. So teardown drops the slots on the
 * source itself rather than trusting {@code DROP SUBSCRIPTION} to reach it, and cleans the source
 * even when the target cannot be reached.
 *
 * <p>The subscription logs in to the source as the run's own role ({@link PerRunRole}: its
 * password valid only while the subscription must log in) or, where the runbook allows it, with
 * the source credential ({@link SubscriptionLogin}). The drain ends the stream: subscription and
 * slots dropped, the role locked; teardown drops the rest.
 *
 * <p>Neither DDL, sequences nor large objects travel by logical replication: the source's schema
 * is recorded at setup and compared on every look ({@link SchemaWatch}); the workflow copies
 * sequences after the drain; large objects are copied at setup and at the drain ({@link
 * LargeObjects}).
 */
final class LogicalSync implements SyncMethod {
  private static final Logger log = LoggerFactory.getLogger(LogicalSync.class);
  private static final String APPLICATION = "ferry-sync";

  private final Databases databases;
  private final LogicalSchemaCopy copy;
  private final LogicalTiming timing;

  LogicalSync(Databases databases, InitialCopy copy) {
    this(databases, LogicalSchemaCopy.of(copy), LogicalTiming.DEFAULT);
  }

  LogicalSync(Databases databases, LogicalSchemaCopy copy, LogicalTiming timing) {
    this.databases = databases;
    this.copy = copy;
    this.timing = timing;
  }

  /**
   * Everything {@link #start} would refuse, found the same way (one list of reasons for both),
   * before anything exists: the source's publishing (wal_level, replication privilege, free slots
   * and WAL senders for the subscription and its table copies, CREATE on the database, owner of
   * every table, a replica identity for each, no unlogged table), the target's right to
   * subscribe, the login ({@link SubscriptionLogin}: the run's role can be made, or the runbook
   * allows the source credential) and the large objects' readability.
   */
  @Override
  public SyncCheck check(SyncSession session) {
    SubscriptionLogin login = SubscriptionLogin.of(session, timing);
    LogicalConnInfo conninfo = LogicalConnInfo.of(session.source().url());
    try (LogicalSide source = open(session, session.source(), conninfo);
        LogicalSide target = open(session, session.target(), conninfo)) {
      List<Table> tables = LogicalSource.tables(source);
      int slotsNeeded = 1 + Math.min(tables.size(), LogicalTarget.copyWorkers(target));
      return new SyncCheck(refusals(source, target, tables, slotsNeeded, login), login.warnings(source, tables));
    }
  }

  private static List<String> refusals(
      LogicalSide source, LogicalSide target, List<Table> tables, int slotsNeeded, SubscriptionLogin login) {
    List<String> reasons = new ArrayList<>(LogicalSource.refusals(source, slotsNeeded));
    LogicalTarget.cannotSubscribe(target).ifPresent(reasons::add);
    reasons.addAll(login.refusals(source, tables));
    reasons.addAll(source.call(LargeObjects::unreadable));
    return reasons;
  }

  /**
   * Refuses, with every reason at once, what {@link #check} finds (before changing anything);
   * copies the schema's tables; publishes; makes the subscription's login; subscribes with the
   * initial copy and waits, heartbeating each table's copy state, until every table is ready;
   * restores indexes and constraints; copies the large objects; with a per-run role, waits until
   * the subscription streams and voids the role's password. A retry skips the steps its
   * bookkeeping says are done, reuses the publication and subscription, and gives the role a new
   * password (the last one left with the attempt that made it).
   */
  @Override
  public SyncSetup start(SyncSession session) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    SubscriptionLogin login = SubscriptionLogin.of(session, timing);
    LogicalConnInfo conninfo = LogicalConnInfo.of(session.source().url());
    try (LogicalSide source = open(session, session.source(), conninfo);
        LogicalSide target = open(session, session.target(), conninfo)) {
      List<Table> tables = LogicalSource.tables(source);
      // Its own slot, and one per table the subscription copies at once (only while copying).
      boolean subscribed =
          LogicalTarget.subscription(target, session.subscription()).isPresent() || LogicalSource.slotExists(source, session.slot());
      int slotsNeeded = subscribed ? 0 : 1 + Math.min(tables.size(), LogicalTarget.copyWorkers(target));
      List<String> refused = refusals(source, target, tables, slotsNeeded, login);
      if (!refused.isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            session.source().describe() + " cannot be synced with sync: logical: " + String.join("; ", refused),
            Errors.SYNC_REFUSED);
      }
      List<String> schemaNow = source.call(SchemaWatch::describe);

      long began = System.nanoTime();
      long[] at = new long[3];
      Optional<String> postDataDone = LogicalTarget.step(target, session.schema(), LogicalTarget.POST_DATA_DONE);
      Path dump = postDataDone.isPresent() ? null : copy.dump(session);
      try {
        if (LogicalTarget.step(target, session.schema(), LogicalTarget.PRE_DATA_DONE).isEmpty()) {
          copy.restore(session, dump, InitialCopy.PRE_DATA);
          // Bookkeeping only now: a restore claims an empty target.
          LogicalTarget.recordSchema(target, session.schema(), schemaNow, LogicalTarget.PRE_DATA_DONE);
        } else {
          checkSchema(session, source, target);
        }
        if (postDataDone.isEmpty()) {
          LogicalKeys.add(target, session.tag(), LogicalSource.identityColumns(source));
        }
        context.heartbeat(Progress.of(0, tables.size(), 0, "publishing"));
        LogicalSource.publish(source, session.publication(), tables);
        context.heartbeat(Progress.of(0, tables.size(), 0, "making the subscription's login"));
        login.prepare(source, tables);
        context.heartbeat(Progress.of(0, tables.size(), 0, "subscribing"));
        LogicalTarget.Subscription subscription = subscribe(session, source, target, login);
        SyncLeftovers.markOwner(session, source, target);
        LogicalTarget.recordStep(target, session.schema(), LogicalTarget.SUBSCRIPTION_OID, Long.toString(subscription.oid()));
        at[0] = System.nanoTime();
        awaitCopy(session, source, target, tables.size(), context);
        at[1] = System.nanoTime();

        if (postDataDone.isEmpty()) {
          buildIndexesAndConstraints(session, target, dump, context);
        }
        at[2] = System.nanoTime();
      } finally {
        if (dump != null) {
          copy.discard(dump);
        }
      }
      // The subscription carries none: all of them now, what changes meanwhile at the drain.
      LargeObjects.Carried largeObjects =
          LargeObjects.carry(
              databases, session, () -> context.heartbeat(Progress.of(tables.size(), tables.size(), 0, "copying large objects")));
      if (session.perRunRole()) {
        // Every table copied: only the apply worker's connection is left, so the role's password
        // can go (its connection stays).
        awaitStreaming(session, source, target, login, context);
      }
      // A table created while this ran is in neither the publication nor the target.
      checkSchema(session, source, target);
      long rows = LogicalTarget.rowsWritten(target);
      log.info(
          "logical sync {} set up: {} tables; schema and subscription {} ms, copy {} ms, indexes and constraints {} ms; {}",
          session.subscription(), tables.size(), (at[0] - began) / 1_000_000, (at[1] - at[0]) / 1_000_000, (at[2] - at[1]) / 1_000_000,
          largeObjects);
      return new SyncSetup(
          tables.size(),
          rows,
          "publication " + session.publication() + " on the source, subscription " + session.subscription()
              + " on the target, replication slot " + session.slot() + " on the source");
    }
  }

  /**
   * Watches the subscription, which applies by itself, until the activity is cancelled: every
   * tick heartbeats the lag, compares the source's schema with the one recorded at setup, and
   * fails for good when the subscription is gone, disabled or stuck failing.
   */
  @Override
  public void apply(SyncSession session) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    SubscriptionLogin login = SubscriptionLogin.of(session, timing);
    try (LogicalSide source = open(session, session.source(), LogicalConnInfo.none());
        LogicalSide target = open(session, session.target(), LogicalConnInfo.none())) {
      LogicalStall stall = new LogicalStall(timing.failuresWithoutProgress());
      while (true) {
        SyncLag lag = look(session, source, target, stall, login).lag();
        // Throws when the activity is cancelled: that is how this loop ends.
        context.heartbeat(lag);
        pause();
      }
    }
  }

  /**
   * Bytes: the source's WAL position less the slot's confirmed position (everything the
   * subscription has applied and flushed). Time: 0 when nothing is unconfirmed; otherwise
   * PostgreSQL's own {@code flush_lag} for the slot's WAL sender (how long WAL took from being
   * flushed on the source to being confirmed); when it has no fresh measure because the
   * subscriber had caught up, the time since the subscriber's last reply (everything unconfirmed
   * is younger than that); with no WAL sender at all, the time since the subscriber last heard
   * from the source. Not {@code now() - last_msg_receipt_time}: that is the age of a message,
   * which is small whenever keepalives flow, however far behind the apply is.
   */
  @Override
  public SyncLag lag(SyncSession session) {
    try (LogicalSide source = open(session, session.source(), LogicalConnInfo.none());
        LogicalSide target = open(session, session.target(), LogicalConnInfo.none())) {
      return measure(session, source, target).lag();
    }
  }

  /**
   * With the source frozen: takes the source's WAL position and waits until the slot has
   * confirmed it, heartbeating the lag, while watching the app's tables' write counters for at
   * least {@link LogicalTiming#quiet}; done when they did not move and no session is inside a
   * writing transaction, else again. Writes still arriving after {@link LogicalTiming#writesFor}
   * mean the source is not frozen: final. The counters are statistics, so this catches an app
   * that keeps writing, not a single late write; the freeze itself is what stops writes. Then
   * brings the large objects across, records the drain in the bookkeeping and ends the stream
   * ({@link #endStream}); a retry that finds the drain recorded only finishes ending it.
   */
  @Override
  public SyncLag drain(SyncSession session, AtTheDrain atTheEnd) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    SubscriptionLogin login = SubscriptionLogin.of(session, timing);
    try (LogicalSide source = open(session, session.source(), LogicalConnInfo.none());
        LogicalSide target = open(session, session.target(), LogicalConnInfo.none())) {
      Optional<String> drained = LogicalTarget.step(target, session.schema(), LogicalTarget.DRAINED);
      if (drained.isPresent()) {
        // An earlier attempt drained and carried the large objects; it may not have ended the
        // stream, nor done what comes at the end (idempotent, so done again).
        atTheEnd(source, target, atTheEnd);
        endStream(session, source, target, login, context);
        log.info("logical sync {} was drained to {} by an earlier attempt", session.subscription(), drained.get());
        return new SyncLag(-1, 0, 0, Instant.now());
      }
      LogicalStall stall = new LogicalStall(timing.failuresWithoutProgress());
      // A pre-verified run's key capture reads every write to the app's tables, with its
      // transaction, and the final verify re-checks each such row: a write the statistics would
      // show late cannot pass unseen, so the drain waits for no quiet period, only for the slot
      // and for writing sessions, and looks often (this is the write downtime).
      boolean keysCaptured = LogicalChangeFeed.installed(source, session);
      Duration quiet = keysCaptured ? Duration.ZERO : timing.quiet();
      long started = System.nanoTime();
      while (true) {
        long round = System.nanoTime();
        long writesBefore = LogicalSource.writes(source);
        String until = LogicalSource.currentLsn(source);
        while (true) {
          SyncLag lag = look(session, source, target, stall, login).lag();
          if (LogicalSource.confirmed(source, session.slot(), until) && System.nanoTime() - round >= quiet.toNanos()) {
            break;
          }
          context.heartbeat(lag);
          if (keysCaptured) {
            pause(DRAIN_LOOK);
          } else {
            pause();
          }
        }
        long written = LogicalSource.writes(source) - writesBefore;
        long writing = LogicalSource.writingSessions(source);
        if (written == 0 && writing == 0) {
          checkSchema(session, source, target);
          LargeObjects.Carried largeObjects =
              source.call(s -> target.call(t -> LargeObjects.carryOn(session, s, t, () -> context.heartbeat(null))));
          atTheEnd(source, target, atTheEnd);
          // Recorded before the stream ends: a retry then only finishes ending it.
          LogicalTarget.recordStep(target, session.schema(), LogicalTarget.DRAINED, until);
          endStream(session, source, target, login, context);
          log.info("logical sync {} drained to {}; {}; stream ended", session.subscription(), until, largeObjects);
          return new SyncLag(-1, 0, 0, Instant.now());
        }
        if (System.nanoTime() - started > timing.writesFor().toNanos()) {
          throw ApplicationFailure.newNonRetryableFailure(
              session.source().describe() + ": " + written + " row(s) written to the app's tables in the last "
                  + Duration.ofNanos(System.nanoTime() - round).toSeconds() + " s and " + writing
                  + " session(s) in a writing transaction, " + timing.writesFor().toSeconds()
                  + " s after the drain began: the source is not frozen"
                  + " (is default_transaction_read_only on, and was every writing session ended?)",
              Errors.SOURCE_NOT_FROZEN);
        }
      }
    }
  }

  private static void atTheEnd(LogicalSide source, LogicalSide target, AtTheDrain atTheEnd) {
    source.call(s -> target.call(t -> {
      atTheEnd.run(s, t);
      return null;
    }));
  }

  /**
   * Drops the subscription on the target (detached from its slot, so it needs no source), then
   * the publication, every slot of this sync (ending the WAL senders that hold them) and the
   * run's replication role on the source, then the temporary keys and the bookkeeping on the
   * target. The source is cleaned even when the target cannot be reached; the failure is thrown
   * afterwards, so the retry finishes. A source database that is gone takes its publication and
   * slots with it, but not the role (roles belong to the server): it is dropped through the
   * server's {@code postgres} database when the credential may connect there.
   */
  @Override
  public void stop(SyncSession session) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Long subscriptionOid = null;
    RuntimeException targetFailure = null;
    boolean targetGone = false;
    try (LogicalSide target = open(session, session.target(), LogicalConnInfo.none())) {
      subscriptionOid = subscriptionOid(session, target);
      LogicalTarget.unsubscribe(target, session.subscription());
    } catch (ApplicationFailure e) {
      // A target database that no longer exists holds no subscription (PostgreSQL refuses to
      // drop one that does).
      targetGone = Errors.DATABASE_NOT_FOUND.equals(e.getType());
      targetFailure = targetGone ? null : e;
    }

    // At decommission the source is frozen: new sessions start read-only, and DROP PUBLICATION
    // is DDL, which the write fence's event trigger refuses to any session but the run's.
    try (LogicalSide source =
        LogicalSide.of(
            session.source(),
            databases.connectPastFence(session.source(), session.applicationName(APPLICATION), session.workflowId()),
            LogicalConnInfo.none())) {
      LogicalSource.dropPublication(source, session.publication());
      dropSlots(session, source, subscriptionOid, context);
      PerRunRole.drop(source, session);
    } catch (ApplicationFailure e) {
      // A source database that no longer exists holds no slot (PostgreSQL refuses to drop one
      // that does); anything else (unreachable) fails, retryable, with the slot still to drop.
      if (!Errors.DATABASE_NOT_FOUND.equals(e.getType())) {
        throw e;
      }
      dropRoleWithoutTheSourceDatabase(session);
    }
    if (targetFailure != null) {
      throw targetFailure;
    }
    if (!targetGone) {
      try (LogicalSide target = open(session, session.target(), LogicalConnInfo.none())) {
        LogicalKeys.drop(target, session.tag());
        LogicalTarget.dropBookkeeping(target, session.schema());
      }
    }
    log.info("logical sync {} torn down", session.subscription());
  }

  /** The subscription's oid (which names its table-copy slots), from the target's catalog or the bookkeeping. */
  private static Long subscriptionOid(SyncSession session, LogicalSide target) {
    return LogicalTarget.subscription(target, session.subscription())
        .map(LogicalTarget.Subscription::oid)
        .or(() -> LogicalTarget.step(target, session.schema(), LogicalTarget.SUBSCRIPTION_OID).map(Long::valueOf))
        .orElse(null);
  }

  /** Drops this sync's slots on the source: its own and its table copies'. */
  private void dropSlots(SyncSession session, LogicalSide source, Long subscriptionOid, ActivityExecutionContext context) {
    for (String slot : LogicalSource.slots(source, session.slot(), subscriptionOid)) {
      if (!LogicalSource.dropSlot(source, slot, () -> tick(context), timing.slotReleaseTries())) {
        throw ApplicationFailure.newFailure(
            session.source().describe() + ": replication slot " + slot + " is still in use; retrying",
            Errors.STEP_FAILED);
      }
      log.info("dropped replication slot {} on {}", slot, session.source().describe());
    }
  }

  /**
   * After the drain nothing can arrive from the frozen source: the subscription is dropped (the
   * target's catalog no longer holds any connection string), the slots with it (the source keeps
   * no WAL for the run through the fallback window), and the login retired (the run's role may
   * not log in any more). The publication, the role and the bookkeeping stay for teardown.
   */
  private void endStream(
      SyncSession session, LogicalSide source, LogicalSide target, SubscriptionLogin login, ActivityExecutionContext context) {
    Long oid = subscriptionOid(session, target);
    LogicalTarget.unsubscribe(target, session.subscription());
    dropSlots(session, source, oid, context);
    login.retire(source);
  }

  private void dropRoleWithoutTheSourceDatabase(SyncSession session) {
    Endpoint server =
        new Endpoint(session.source().side(), session.source().reference(), session.source().url().withDatabase("postgres"));
    try (LogicalSide source = open(session, server, LogicalConnInfo.none())) {
      PerRunRole.drop(source, session);
    } catch (RuntimeException e) {
      log.warn(
          "the source database is gone; the replication role {} could not be dropped through the postgres database ({}):"
              + " the sweeper of orphaned ferry_repl_* roles will find it",
          session.replicationRole(), e.getMessage());
    }
  }

  // --- Steps ------------------------------------------------------------------------------

  /**
   * Creates the subscription, or finds this sync's own: enabled again if a failed teardown left
   * it disabled. A slot without its subscription is what an attempt that died inside {@code
   * CREATE SUBSCRIPTION} leaves on the source (the slot is created remotely before the
   * subscription commits): dropped before subscribing again.
   */
  private LogicalTarget.Subscription subscribe(
      SyncSession session, LogicalSide source, LogicalSide target, SubscriptionLogin login) {
    Optional<LogicalTarget.Subscription> existing = LogicalTarget.subscription(target, session.subscription());
    if (existing.isPresent()) {
      // The password an earlier attempt gave it is gone with that attempt: a new one.
      login.renew(source, target).ifPresent(conninfo -> LogicalTarget.connectWith(target, session.subscription(), conninfo));
      if (!existing.get().enabled()) {
        LogicalTarget.enable(target, session.subscription());
      }
      return existing.get();
    }
    if (LogicalSource.slotExists(source, session.slot())
        && !LogicalSource.dropSlot(source, session.slot(), () -> tick(Activity.getExecutionContext()), timing.slotReleaseTries())) {
      throw ApplicationFailure.newFailure(
          session.source().describe() + ": replication slot " + session.slot() + " is still in use; retrying",
          Errors.STEP_FAILED);
    }
    LogicalTarget.subscribe(
        target, session.subscription(), login.arm(source, target), session.publication(), session.slot(),
        () -> Activity.getExecutionContext().heartbeat(Progress.of(0, 0, 0, "creating the subscription's slot")));
    return LogicalTarget.subscription(target, session.subscription()).orElseThrow();
  }

  /**
   * Restores the post-data section (indexes, constraints, the real primary keys) with the
   * subscription paused, its temporary keys dropped first ({@link LogicalKeys}); the changes
   * meanwhile wait in the slot. Building an index blocks writes to its table anyway, so the pause
   * costs little. A retry after a crash in between finds the subscription disabled and {@link
   * #subscribe} enables it.
   */
  private void buildIndexesAndConstraints(SyncSession session, LogicalSide target, Path dump, ActivityExecutionContext context) {
    LogicalTarget.disable(target, session.subscription());
    while (LogicalTarget.working(target, session.subscription())) {
      context.heartbeat(Progress.of(0, 0, 0, "pausing the subscription to build indexes"));
      pause();
    }
    LogicalKeys.drop(target, session.tag());
    copy.restore(session, dump, InitialCopy.POST_DATA);
    LogicalTarget.recordStep(target, session.schema(), LogicalTarget.POST_DATA_DONE, "yes");
    LogicalTarget.enable(target, session.subscription());
  }

  /** Waits until the subscription has copied every table and caught up with each. */
  private void awaitCopy(
      SyncSession session, LogicalSide source, LogicalSide target, int tables, ActivityExecutionContext context) {
    LogicalStall stall = new LogicalStall(timing.failuresWithoutProgress());
    while (true) {
      // A column added while a table is copied fails the copy again and again: say why.
      checkSchema(session, source, target);
      List<LogicalTarget.TableState> states = LogicalTarget.tableStates(target, session.subscription());
      long ready = states.stream().filter(LogicalTarget.TableState::ready).count();
      if (ready == states.size() && states.size() >= tables) {
        context.heartbeat(Progress.of(ready, tables, 0, "every table copied"));
        return;
      }
      List<String> pending = states.stream().filter(s -> !s.ready()).map(LogicalTarget.TableState::describe).toList();
      long errors = LogicalTarget.errors(target, session.subscription());
      if (stall.stuck(errors, states)) {
        throw stuck(session, stall.failures(errors), "copying " + pending.stream().limit(20).collect(Collectors.joining(", "))
            + (pending.size() > 20 ? " and " + (pending.size() - 20) + " more" : ""));
      }
      context.heartbeat(
          Progress.of(ready, tables, 0, pending.stream().limit(5).collect(Collectors.joining(", ")) + (pending.size() > 5 ? ", …" : "")));
      pause();
    }
  }

  /**
   * Waits until the subscription streams (its WAL sender holds the slot), watching it as {@link
   * #apply} does; the login then lets go of its password.
   */
  private void awaitStreaming(
      SyncSession session, LogicalSide source, LogicalSide target, SubscriptionLogin login, ActivityExecutionContext context) {
    LogicalStall stall = new LogicalStall(timing.failuresWithoutProgress());
    while (!look(session, source, target, stall, login).streaming()) {
      context.heartbeat(Progress.of(0, 0, 0, "waiting for the subscription to stream"));
      pause();
    }
  }

  /**
   * Measures the lag and checks the subscription's health and the source's schema; lets the
   * login see whether the subscription is connected.
   */
  private Measure look(SyncSession session, LogicalSide source, LogicalSide target, LogicalStall stall, SubscriptionLogin login) {
    LogicalTarget.Subscription subscription =
        LogicalTarget.subscription(target, session.subscription())
            .orElseThrow(
                () ->
                    ApplicationFailure.newNonRetryableFailure(
                        session.target().describe() + ": subscription " + session.subscription()
                            + " does not exist: the sync was never set up or was torn down",
                        Errors.STEP_FAILED));
    if (!subscription.enabled()) {
      throw ApplicationFailure.newNonRetryableFailure(
          session.target().describe() + ": subscription " + session.subscription()
              + " is disabled, so nothing is applied; the target's server log says why (ALTER SUBSCRIPTION … ENABLE"
              + " resumes it where it stopped)",
          Errors.STEP_FAILED);
    }
    Measure measure = measure(session, source, target);
    login.watch(source, target, session.subscription(), measure.streaming());
    checkSchema(session, source, target);
    long errors = LogicalTarget.errors(target, session.subscription());
    if (stall.stuck(errors, measure.confirmedLsn())) {
      throw stuck(session, stall.failures(errors), "applying changes (confirmed up to " + measure.confirmedLsn() + ")");
    }
    return measure;
  }

  /** @param streaming whether a WAL sender holds the slot: the subscription is connected */
  private record Measure(SyncLag lag, String confirmedLsn, boolean streaming) {}

  private Measure measure(SyncSession session, LogicalSide source, LogicalSide target) {
    LogicalSource.SlotPosition slot =
        LogicalSource.position(source, session.slot())
            .orElseThrow(
                () ->
                    ApplicationFailure.newNonRetryableFailure(
                        session.source().describe() + ": replication slot " + session.slot()
                            + " does not exist: the subscription cannot receive anything; tear the sync down and start again",
                        Errors.STEP_FAILED));
    long millis;
    if (slot.behindBytes() == 0) {
      millis = 0;
    } else if (slot.flushLagMillis() != null) {
      millis = slot.flushLagMillis();
    } else if (slot.sinceReplyMillis() != null) {
      millis = slot.sinceReplyMillis();
    } else {
      Long sinceHeard = LogicalTarget.sinceLatestEnd(target, session.subscription());
      // Not connected and never was: unknown, which must never pass for "under the threshold".
      millis = sinceHeard != null ? sinceHeard : Long.MAX_VALUE;
    }
    return new Measure(new SyncLag(-1, slot.behindBytes(), millis, Instant.now()), slot.confirmedLsn(), slot.active());
  }

  private void checkSchema(SyncSession session, LogicalSide source, LogicalSide target) {
    List<String> recorded =
        LogicalTarget.recordedSchema(target, session.schema())
            .orElseThrow(
                () ->
                    ApplicationFailure.newNonRetryableFailure(
                        session.target().describe() + ": schema " + session.schema()
                            + " with the sync's bookkeeping is missing: the sync was never set up or was torn down",
                        Errors.STEP_FAILED));
    SchemaWatch.check(session.source(), recorded, source.call(SchemaWatch::describe));
  }

  private static ApplicationFailure stuck(SyncSession session, long failures, String doing) {
    return ApplicationFailure.newNonRetryableFailure(
        session.target().describe() + ": subscription " + session.subscription() + " failed " + failures
            + " times in a row without progress while " + doing
            + " (pg_stat_subscription_stats); the target's server log has the error, most often a row that"
            + " conflicts with one already on the target or a table or column the target lacks",
        Errors.STEP_FAILED);
  }

  // --- Plumbing ---------------------------------------------------------------------------

  private LogicalSide open(SyncSession session, Endpoint endpoint, LogicalConnInfo secret) {
    return LogicalSide.open(databases, endpoint, session.applicationName(APPLICATION), secret);
  }

  /** How often a drain with the keys captured looks whether the slot has confirmed. */
  private static final Duration DRAIN_LOOK = Duration.ofMillis(20);

  private void pause() {
    pause(timing.tick());
  }

  private void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  private void tick(ActivityExecutionContext context) {
    context.heartbeat(null);
    pause();
  }

}

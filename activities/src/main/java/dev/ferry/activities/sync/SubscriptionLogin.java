package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog.Table;
import java.util.List;

/**
 * How the logical sync's subscription logs in to the source: as a role made for the run ({@link
 * PerRunRole}, the runbook's {@code sync.replicationRole: per-run}, the default) or with the
 * runbook's own source credential ({@link SourceCredential}, {@code source-credential}, and runs
 * begun before per-run roles existed). One instance per activity attempt: it remembers what this
 * attempt did to the login.
 */
interface SubscriptionLogin {
  static SubscriptionLogin of(SyncSession session, LogicalTiming timing) {
    return session.perRunRole() ? new PerRunRole(session, timing.rearmAfter()) : new SourceCredential(session);
  }

  /** What would stop this login from working, for preflight and the start; empty when nothing. */
  List<String> refusals(LogicalSide source, List<Table> tables);

  /** What the approver should know about this login. */
  List<String> warnings(LogicalSide source, List<Table> tables);

  /** Makes the login ready to read {@code tables} (idempotent). */
  void prepare(LogicalSide source, List<Table> tables);

  /**
   * A connection string that logs in now; the caller gives it to the subscription at once. Its
   * password is masked out of {@code source}'s and {@code target}'s errors.
   */
  LogicalConnInfo arm(LogicalSide source, LogicalSide target);

  /**
   * For a subscription an earlier attempt created: a connection string to give it now, when the
   * login needs one (a new attempt, maybe on another worker, never knows the last password).
   */
  java.util.Optional<LogicalConnInfo> renew(LogicalSide source, LogicalSide target);

  /**
   * Called on every look at a running subscription: {@code streaming} is whether its WAL sender
   * holds the slot. Keeps the subscription able to log in only while it needs to.
   */
  void watch(LogicalSide source, LogicalSide target, String subscription, boolean streaming);

  /** After the drain: the login can never be used again (idempotent). */
  void retire(LogicalSide source);

  /** The source credential itself: today's behaviour, the runbook's explicit fallback. */
  final class SourceCredential implements SubscriptionLogin {
    private final SyncSession session;

    SourceCredential(SyncSession session) {
      this.session = session;
    }

    @Override
    public List<String> refusals(LogicalSide source, List<Table> tables) {
      return List.of();
    }

    @Override
    public List<String> warnings(LogicalSide source, List<Table> tables) {
      String why =
          PerRunRole.cannotCreate(source, tables)
              .map(reason -> "")
              .orElse(" (this source would allow a role made for the run: leave sync.replicationRole out)");
      return List.of(
          "sync.replicationRole source-credential: the subscription logs in to the source as "
              + session.source().url().user() + ", and the target keeps that password in pg_subscription (readable by"
              + " its superusers, and in its WAL and backups) until the drain" + why);
    }

    @Override
    public void prepare(LogicalSide source, List<Table> tables) {}

    @Override
    public LogicalConnInfo arm(LogicalSide source, LogicalSide target) {
      LogicalConnInfo conninfo = LogicalConnInfo.of(session.source().url());
      source.hide(conninfo);
      target.hide(conninfo);
      return conninfo;
    }

    @Override
    public java.util.Optional<LogicalConnInfo> renew(LogicalSide source, LogicalSide target) {
      arm(source, target);
      return java.util.Optional.empty();
    }

    @Override
    public void watch(LogicalSide source, LogicalSide target, String subscription, boolean streaming) {}

    @Override
    public void retire(LogicalSide source) {}
  }
}

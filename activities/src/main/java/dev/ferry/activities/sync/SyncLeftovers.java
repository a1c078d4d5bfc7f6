package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.RunComment;
import dev.ferry.model.sync.SyncRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a sync installs, found and removed without the run that installed it: for the sweep
 * ({@code dev.ferry.activities.sweep.Sweeper}), which removes the objects of runs that ended
 * without tearing their sync down. Every object is named after the sync's tag ({@link
 * SyncSession#tag()}); the schemas, publications and subscriptions also carry the run's id in
 * their comment ({@link RunComment}), which is how a tag is traced back to its run. Replication
 * slots and the per-run replication role carry only the tag: they are traced through the other
 * objects of the same tag.
 *
 * <p>Removal does what teardown does, in the same order across databases (the sweep calls
 * {@link Kind#SUBSCRIPTION} first, {@link Kind#ROLE} last), and each step is idempotent. The
 * pre-verification's key capture (logical) is named after the sync's tag too, and traced the same
 * way.
 */
public final class SyncLeftovers {
  private static final Pattern TAG = Pattern.compile("[0-9a-z]{1,12}");
  private static final String APPLICATION = "ferry-sweep";

  /** What was found, in the order the sweep removes them. */
  public enum Kind {
    /** {@code ferry_sub_<tag>} on the target (logical). */
    SUBSCRIPTION("subscription", "ferry_sub_"),
    /** {@code ferry_pub_<tag>} on the source (logical). */
    PUBLICATION("publication", "ferry_pub_"),
    /** {@code ferry_slot_<tag>} on the source (logical): the one that fills a disk. */
    SLOT("replication slot", "ferry_slot_"),
    /**
     * {@code ferry_sync_<tag>_keys} on the source (logical, pre-verified): the pre-verification's
     * key capture ({@link LogicalChangeFeed}): a replication slot and a publication of that name
     * (the triggers on the app's tables of an older Ferry's capture), the schema removed last.
     */
    KEY_CAPTURE("key capture", "ferry_sync_", "_keys"),
    /**
     * {@code ferry_sync_<tag>}: the trigger method's capture on the source (change table,
     * functions, and the {@code ferry_capture_<tag>} triggers on the app's tables), or the logical
     * method's bookkeeping on the target (with the temporary {@code ferry_key_<tag>_*} keys).
     */
    SCHEMA("sync schema", "ferry_sync_"),
    /** {@code ferry_repl_<tag>}: the per-run replication role of the logical method (server-wide). */
    ROLE("replication role", "ferry_repl_");

    private final String label;
    private final String prefix;
    private final String suffix;

    Kind(String label, String prefix) {
      this(label, prefix, "");
    }

    Kind(String label, String prefix, String suffix) {
      this.label = label;
      this.prefix = prefix;
      this.suffix = suffix;
    }

    public String label() {
      return label;
    }

    public String nameOf(String tag) {
      return prefix + tag + suffix;
    }
  }

  /**
   * One object a sync left.
   *
   * @param run the run its comment names, or null (slots and roles have none; an object made
   *     before comments named the run has none either)
   * @param oid the subscription's oid (its table-copy slots on the source carry it), else null
   */
  public record Leftover(Kind kind, String name, String tag, String run, Long oid) {}

  private SyncLeftovers() {}

  /** Writes the run into the comments of the logical sync's publication, subscription and bookkeeping. */
  static void markOwner(SyncSession s, LogicalSide source, LogicalSide target) {
    source.execute("COMMENT ON PUBLICATION " + Catalog.quote(s.publication()) + " IS "
        + RunComment.literal(s.workflowId(), "publication of a logical sync; dropped when the run ends"));
    target.execute("COMMENT ON SUBSCRIPTION " + Catalog.quote(s.subscription()) + " IS "
        + RunComment.literal(s.workflowId(), "subscription of a logical sync; dropped when the run ends"));
    target.execute("COMMENT ON SCHEMA " + Catalog.quote(s.schema()) + " IS "
        + RunComment.literal(s.workflowId(), "a logical sync's bookkeeping; dropped when the sync is torn down"));
  }

  /** Every sync object in the endpoint's database (and the server's replication roles). */
  public static List<Leftover> find(Databases databases, Endpoint endpoint) {
    List<Leftover> found = new ArrayList<>();
    try (LogicalSide side = LogicalSide.open(databases, endpoint, APPLICATION, LogicalConnInfo.none())) {
      side.query(
              "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname LIKE 'ferry\\_sync\\_%'",
              rs -> {
                Leftover schema = leftover(Kind.SCHEMA, rs.getString(1), rs.getString(2), null);
                return schema != null ? schema : leftover(Kind.KEY_CAPTURE, rs.getString(1), rs.getString(2), null);
              })
          .forEach(found::add);
      side.query(
              "SELECT pubname, obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname LIKE 'ferry\\_pub\\_%'",
              rs -> leftover(Kind.PUBLICATION, rs.getString(1), rs.getString(2), null))
          .forEach(found::add);
      side.query(
              "SELECT subname, shobj_description(oid, 'pg_subscription'), oid FROM pg_subscription"
                  + " WHERE subname LIKE 'ferry\\_sub\\_%' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
              rs -> leftover(Kind.SUBSCRIPTION, rs.getString(1), rs.getString(2), rs.getLong(3)))
          .forEach(found::add);
      side.query(
              "SELECT slot_name FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE 'ferry\\_slot\\_%'",
              rs -> leftover(Kind.SLOT, rs.getString(1), null, null))
          .forEach(found::add);
      side.query(
              "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname LIKE 'ferry\\_repl\\_%'",
              rs -> leftover(Kind.ROLE, rs.getString(1), rs.getString(2), null))
          .forEach(found::add);
    }
    found.removeIf(l -> l == null);
    return found;
  }

  /**
   * Removes one leftover, as teardown would: a subscription detached from its slot first (so it
   * needs no source); a slot after ending the WAL sender that holds it, with the table-copy slots
   * of {@code subscriptionOid}; the capture's triggers before its schema, after ending the run's
   * sync sessions, and the temporary keys with the bookkeeping; a role after what it owns or was
   * granted in this database. Removing what is gone succeeds.
   *
   * @param run the run it belongs to (its sessions are ended)
   * @param subscriptionOid the oid of the run's subscription, if the sweep saw it, for the slots
   *     PostgreSQL made for its table copies
   */
  public static void remove(Databases databases, Endpoint endpoint, Leftover leftover, String run, Long subscriptionOid) {
    SyncSession session =
        new SyncSession(new SyncRequest(leftover.tag(), null, null, null, null), endpoint, endpoint, run);
    // A frozen source starts new sessions read-only, and its write fence refuses DDL (dropping a
    // publication, the capture's triggers) to every session but the run's own.
    try (LogicalSide side =
        LogicalSide.of(endpoint, databases.connectPastFence(endpoint, APPLICATION, run), LogicalConnInfo.none())) {
      switch (leftover.kind()) {
        case SUBSCRIPTION -> LogicalTarget.unsubscribe(side, session.subscription());
        case PUBLICATION -> LogicalSource.dropPublication(side, session.publication());
        case SLOT -> {
          for (String slot : LogicalSource.slots(side, session.slot(), subscriptionOid)) {
            if (!LogicalSource.dropSlot(side, slot, () -> {}, 10)) {
              throw new IllegalStateException("replication slot " + slot + " is still in use");
            }
          }
        }
        case SCHEMA -> {
          side.execute(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND application_name IN (?, ?, ?) AND pid <> pg_backend_pid()",
              session.applicationName("ferry-sync-apply"),
              session.applicationName("ferry-sync"),
              session.applicationName("ferry-sync-teardown"));
          LogicalKeys.drop(side, session.tag());
          side.call(
              c -> {
                // As teardown prepares its session (TriggerSync.stop).
                TriggerApply.prepareSource(c);
                // Outside an activity: nothing to heartbeat, the longest lock wait teardown allows.
                TriggerCapture.remove(c, session, TriggerSync.MAX_LOCK_WAIT, () -> {});
                return null;
              });
        }
        case KEY_CAPTURE -> side.call(
            c -> {
              new LogicalChangeFeed(leftover.name(), session.slot(), null).remove(c);
              return null;
            });
        case ROLE -> removeRole(databases, List.of(endpoint), leftover, run);
      }
    }
  }

  /**
   * Removes a per-run role: what it owns and was granted in each of {@code databases} (a role's
   * grants live in every database it was given some, and DROP ROLE refuses while any remain),
   * then the role. A role that is gone succeeds.
   *
   * @param endpoints databases of the role's server the sweep reached, the run's source among them
   */
  public static void removeRole(Databases databases, List<Endpoint> endpoints, Leftover role, String run) {
    String quoted = Catalog.quote(role.name());
    for (Endpoint endpoint : endpoints) {
      try (LogicalSide side =
          LogicalSide.of(endpoint, databases.connectPastFence(endpoint, APPLICATION, run), LogicalConnInfo.none())) {
        if (side.queryOne("SELECT 1 FROM pg_roles WHERE rolname = ?", rs -> true, role.name()).isEmpty()) {
          return;
        }
        side.execute("DROP OWNED BY " + quoted);
      }
    }
    Endpoint any = endpoints.get(0);
    try (LogicalSide side = LogicalSide.of(any, databases.connectPastFence(any, APPLICATION, run), LogicalConnInfo.none())) {
      side.execute("DROP ROLE IF EXISTS " + quoted);
    }
  }

  private static Leftover leftover(Kind kind, String name, String comment, Long oid) {
    String prefix = kind.prefix;
    if (!name.startsWith(prefix) || !name.endsWith(kind.suffix) || name.length() < prefix.length() + kind.suffix.length()) {
      return null;
    }
    String tag = name.substring(prefix.length(), name.length() - kind.suffix.length()).toLowerCase(Locale.ROOT);
    if (!TAG.matcher(tag).matches() || !name.equals(kind.nameOf(tag))) {
      return null; // not a name Ferry makes
    }
    return new Leftover(kind, name, tag, RunComment.runOf(comment).orElse(null), oid);
  }
}

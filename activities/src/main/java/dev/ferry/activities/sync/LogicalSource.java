package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Catalog.Table;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the logical sync does and reads on the source: whether it can publish at all, the
 * publication, the replication slots, and how far the slot's consumer has confirmed.
 */
final class LogicalSource {
  private static final String USER_TABLES =
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND"
          + Catalog.USER_RELATION_FILTER;

  private LogicalSource() {}

  /**
   * Every reason the source cannot be published from: wal_level is not logical; the role may not
   * replicate (Ferry drops the sync's slots with it); no replication slot or WAL sender is free
   * for {@code slotsNeeded} (0 when this sync's own slot already exists); the role may not create
   * a publication of every table (CREATE on the database, owner of each table); tables whose
   * updates and deletes could not be published (no primary key, no replica identity) or that
   * cannot be published at all (unlogged).
   */
  static List<String> refusals(LogicalSide source, int slotsNeeded) {
    List<String> reasons = new ArrayList<>();
    String walLevel = source.queryOne("SELECT current_setting('wal_level')", rs -> rs.getString(1)).orElse("?");
    if (!walLevel.equals("logical")) {
      reasons.add("wal_level is " + walLevel + ", not logical (set it and restart the server)");
    }
    boolean mayReplicate =
        source
            .queryOne(
                "SELECT rolsuper OR rolreplication"
                    // RDS grants replication through a role rather than the attribute.
                    + " OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'rds_replication'"
                    + "   AND pg_has_role(current_user, r.oid, 'MEMBER'))"
                    + " FROM pg_roles WHERE rolname = current_user",
                rs -> rs.getBoolean(1))
            .orElse(false);
    if (!mayReplicate) {
      reasons.add(
          "the role " + source.endpoint().url().user() + " has no REPLICATION privilege and is no superuser"
              + " (Heroku Postgres grants neither: use sync: trigger)");
    }
    if (slotsNeeded > 0) {
      long[] free =
          source
              .queryOne(
                  "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots),"
                      + " current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)",
                  rs -> new long[] {rs.getLong(1), rs.getLong(2)})
              .orElseThrow();
      if (free[0] < slotsNeeded) {
        reasons.add(free[0] + " replication slot(s) free (max_replication_slots), " + slotsNeeded
            + " needed (one for the subscription, one per table copied at once)");
      }
      if (free[1] < slotsNeeded) {
        reasons.add(free[1] + " WAL sender(s) free (max_wal_senders), " + slotsNeeded + " needed");
      }
    }
    List<String> noIdentity =
        source.query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)" + USER_TABLES
                + " AND c.relpersistence = 'p' AND (c.relreplident = 'n'"
                + "   OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))"
                + "   OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))"
                + " ORDER BY 1",
            rs -> rs.getString(1));
    if (!noIdentity.isEmpty()) {
      reasons.add(
          "tables without a primary key or replica identity, whose updates and deletes cannot be published: "
              + named(noIdentity)
              + " (add a primary key, or ALTER TABLE … REPLICA IDENTITY FULL)");
    }
    List<String> unlogged =
        source.query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)" + USER_TABLES
                + " AND c.relpersistence = 'u' ORDER BY 1",
            rs -> rs.getString(1));
    if (!unlogged.isEmpty()) {
      reasons.add("unlogged tables, which logical replication cannot carry: " + named(unlogged)
          + " (ALTER TABLE … SET LOGGED, or use sync: trigger)");
    }
    boolean mayCreate =
        source.queryOne("SELECT has_database_privilege(current_database(), 'CREATE')", rs -> rs.getBoolean(1)).orElse(false);
    if (!mayCreate) {
      reasons.add(
          "the role " + source.endpoint().url().user() + " may not create a publication (it needs CREATE on the database)");
    }
    List<String> notOwned =
        source.query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)" + USER_TABLES
                + " AND NOT pg_has_role(current_user, c.relowner, 'USAGE')"
                + " AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) ORDER BY 1",
            rs -> rs.getString(1));
    if (!notOwned.isEmpty()) {
      reasons.add(
          "tables the role " + source.endpoint().url().user() + " does not own, which it cannot publish: "
              + named(notOwned) + " (a publication needs the owner of every table, or a superuser)");
    }
    return reasons;
  }

  private static String named(List<String> names) {
    return names.size() <= 20 ? String.join(", ", names) : String.join(", ", names.subList(0, 20)) + " and " + (names.size() - 20) + " more";
  }

  /** The tables to publish: every user table that holds rows (partitions rather than parents). */
  static List<Table> tables(LogicalSide source) {
    return source.query(
        "SELECT n.nspname, c.relname" + USER_TABLES + " ORDER BY 1, 2",
        rs -> new Table(rs.getString(1), rs.getString(2)));
  }

  /**
   * The columns each table's replica identity is made of (its primary key, or its replica
   * identity index); tables with REPLICA IDENTITY FULL are absent (every column is the key).
   */
  static Map<Table, List<String>> identityColumns(LogicalSide source) {
    Map<Table, List<String>> keys = new LinkedHashMap<>();
    source.query(
        "SELECT n.nspname, c.relname, a.attname"
            + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " JOIN pg_index i ON i.indrelid = c.oid"
            + "   AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))"
            + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
            + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
            + " WHERE c.relkind = 'r' AND" + Catalog.USER_RELATION_FILTER
            + " ORDER BY 1, 2, k.ord",
        rs -> keys.computeIfAbsent(new Table(rs.getString(1), rs.getString(2)), t -> new ArrayList<>()).add(rs.getString(3)));
    return keys;
  }

  /** Creates the publication for exactly these tables, or makes an existing one list exactly them. */
  static void publish(LogicalSide source, String publication, List<Table> tables) {
    boolean exists =
        source.queryOne("SELECT 1 FROM pg_publication WHERE pubname = ?", rs -> true, publication).isPresent();
    String list = String.join(", ", tables.stream().map(Table::sql).toList());
    java.util.function.Function<String, RuntimeException> refusal =
        reason ->
            ApplicationFailure.newNonRetryableFailure(
                source.endpoint().describe() + ": cannot publish the app's tables: " + reason
                    + " (a publication needs the owner of every table, or a superuser)",
                Errors.SYNC_REFUSED);
    if (!exists) {
      source.executeOrRefuse(
          "CREATE PUBLICATION " + Catalog.quote(publication) + (tables.isEmpty() ? "" : " FOR TABLE " + list), "42501", refusal);
    } else if (!tables.isEmpty()) {
      source.executeOrRefuse("ALTER PUBLICATION " + Catalog.quote(publication) + " SET TABLE " + list, "42501", refusal);
    }
  }

  static void dropPublication(LogicalSide source, String publication) {
    source.execute("DROP PUBLICATION IF EXISTS " + Catalog.quote(publication));
  }

  /** Whether a replication slot of this name exists in this database. */
  static boolean slotExists(LogicalSide source, String slot) {
    return source.call(c -> slotExists(c, slot));
  }

  /** Whether {@code slot} is a slot of the connection's database. */
  static boolean slotExists(Connection source, String slot) throws SQLException {
    try (PreparedStatement ps =
        source.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * This sync's slots in this database: its own, and the table-copy slots PostgreSQL names
   * {@code pg_<subscription oid>_sync_<table oid>_<system id>} when the subscription's oid is
   * known.
   */
  static List<String> slots(LogicalSide source, String slot, Long subscriptionOid) {
    String copies = subscriptionOid == null ? "" : "pg\\_" + subscriptionOid + "\\_sync\\_%";
    return source.query(
        "SELECT slot_name FROM pg_replication_slots WHERE database = current_database()"
            + " AND (slot_name = ? OR (? <> '' AND slot_name LIKE ?)) ORDER BY 1",
        rs -> rs.getString(1),
        slot,
        copies,
        copies);
  }

  /**
   * Drops a slot: ends the WAL sender holding it if there is one, then drops it, again until it
   * is released. Returns false when it was still held after every try (a subscriber that keeps
   * reconnecting); a slot already gone counts as dropped.
   */
  static boolean dropSlot(LogicalSide source, String slot, Runnable tick, int tries) {
    return source.call(c -> dropSlot(c, slot, tick, tries));
  }

  /**
   * {@link #dropSlot(LogicalSide, String, Runnable, int)} on a bare connection (the key capture's
   * removal gets one): ends the session holding the slot, drops it, and tries again after a
   * {@code tick} while another session still holds it; whether it is gone.
   */
  static boolean dropSlot(Connection source, String slot, Runnable tick, int tries) throws SQLException {
    // From PostgreSQL 14 on, waiting (up to 5 s) until the WAL sender has gone and let go of the
    // slot: at the drain this is write downtime, and a tick of waiting would add to it.
    boolean waits = Catalog.serverVersion(source) >= 140000;
    for (int i = 0; i < tries; i++) {
      try (PreparedStatement ps =
          source.prepareStatement(
              "SELECT pg_terminate_backend(active_pid" + (waits ? ", 5000" : "") + ")"
                  + " FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
        ps.setString(1, slot);
        ps.execute();
      }
      boolean dropped;
      try (PreparedStatement ps =
          source.prepareStatement(
              "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ? AND NOT active")) {
        ps.setString(1, slot);
        try (ResultSet rs = ps.executeQuery()) {
          dropped = rs.next();
        }
      } catch (SQLException e) {
        // Taken again between the two statements (a subscriber reconnecting): as held.
        if (!"55006".equals(e.getSQLState()) || !source.getAutoCommit()) {
          throw e;
        }
        dropped = false;
      }
      if (dropped || !slotExists(source, slot)) {
        return true;
      }
      tick.run();
    }
    return false;
  }

  /**
   * Where the slot stands against the source's WAL.
   *
   * @param behindBytes WAL written on the source and not yet confirmed by the subscription
   * @param flushLagMillis PostgreSQL's own measure of the time between the source flushing WAL
   *     and the subscriber confirming it ({@code pg_stat_replication.flush_lag}), or {@code
   *     null} when it has no fresh measure (the subscriber had caught up) or no WAL sender
   * @param sinceReplyMillis time since the subscriber's last reply to its WAL sender, or {@code
   *     null} when none is connected
   * @param active whether a WAL sender holds the slot: the subscription is connected
   */
  record SlotPosition(String confirmedLsn, long behindBytes, Long flushLagMillis, Long sinceReplyMillis, boolean active) {}

  static Optional<SlotPosition> position(LogicalSide source, String slot) {
    return source.queryOne(
        "SELECT s.confirmed_flush_lsn::text,"
            + " greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint,"
            + " (extract(epoch FROM r.flush_lag) * 1000)::bigint,"
            + " greatest(extract(epoch FROM clock_timestamp() - r.reply_time) * 1000, 0)::bigint, s.active"
            + " FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid"
            + " WHERE s.slot_name = ? AND s.database = current_database()",
        rs ->
            new SlotPosition(
                rs.getString(1), rs.getLong(2), (Long) rs.getObject(3, Long.class), (Long) rs.getObject(4, Long.class),
                rs.getBoolean(5)),
        slot);
  }

  /** The source's WAL position now. */
  static String currentLsn(LogicalSide source) {
    return source.queryOne("SELECT pg_current_wal_lsn()::text", rs -> rs.getString(1)).orElseThrow();
  }

  /** Whether the slot has confirmed everything up to {@code lsn}. */
  static boolean confirmed(LogicalSide source, String slot, String lsn) {
    return source
        .queryOne(
            "SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots WHERE slot_name = ?",
            rs -> rs.getBoolean(1),
            lsn,
            slot)
        .orElse(false);
  }

  /**
   * Rows inserted, updated and deleted in the app's tables since the statistics were reset, as
   * the cumulative statistics have them: a writing session publishes its counts at most once a
   * second, an idle one within ten, one that ends at once. Two equal readings more than a second
   * apart mean nobody kept writing in between.
   */
  static long writes(LogicalSide source) {
    return source
        .queryOne(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables"
                + " WHERE schemaname NOT LIKE 'ferry\\_sync\\_%'",
            rs -> rs.getLong(1))
        .orElse(0L);
  }

  /** Client sessions of this database, other than this one, inside a transaction that wrote. */
  static long writingSessions(LogicalSide source) {
    return source
        .queryOne(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                + " AND backend_xid IS NOT NULL AND backend_type = 'client backend'",
            rs -> rs.getLong(1))
        .orElse(0L);
  }
}

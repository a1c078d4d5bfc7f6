package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Optional;

/**
 * What the logical sync does and reads on the target: the subscription, its tables' copy
 * states and error counts, and the sync's bookkeeping schema.
 *
 * <p>The bookkeeping ({@link SyncSession#schema()} on the target, never on the source) holds
 * the source's schema as recorded at setup, the steps of the setup already done, and the
 * subscription's oid (which names its table-copy slots on the source): every later activity,
 * on any worker, reads them there; teardown drops it last.
 */
final class LogicalTarget {
  static final String PRE_DATA_DONE = "pre-data restored";
  static final String POST_DATA_DONE = "post-data restored";
  static final String SUBSCRIPTION_OID = "subscription oid";
  /** The source's WAL position the drain confirmed, once the large objects are across too. */
  static final String DRAINED = "drained";

  private LogicalTarget() {}

  /** The subscription as the target's catalog has it. */
  record Subscription(long oid, boolean enabled) {}

  /** One published table's copy state ({@code pg_subscription_rel.srsubstate}). */
  record TableState(String table, String state) {
    boolean ready() {
      return state.equals("r");
    }

    /** For people: {@code public.orders (copying)}. */
    String describe() {
      String what =
          switch (state) {
            case "i" -> "waiting";
            case "d" -> "copying";
            case "f", "s" -> "catching up";
            case "r" -> "ready";
            default -> state;
          };
      return table + " (" + what + ")";
    }
  }

  static Optional<Subscription> subscription(LogicalSide target, String name) {
    return target.queryOne(
        "SELECT oid, subenabled FROM pg_subscription WHERE subname = ? AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        rs -> new Subscription(rs.getLong(1), rs.getBoolean(2)),
        name);
  }

  /**
   * Creates the subscription with its slot on the source and the initial copy ({@code copy_data}).
   * The statement holds a password: it goes to the server and nowhere else. The target logs in to
   * the source to create the slot: a source that refuses the login fails for good, saying why.
   * Creating the slot waits until every transaction running on the source has ended, which on a
   * busy source takes a while: {@code heartbeat} runs meanwhile.
   */
  static void subscribe(LogicalSide target, String name, LogicalConnInfo source, String publication, String slot, Runnable heartbeat) {
    quietLogs(target);
    target.executeOrRefuse(
        "CREATE SUBSCRIPTION " + Catalog.quote(name) + " CONNECTION " + source.sqlLiteral()
            + " PUBLICATION " + Catalog.quote(publication)
            + " WITH (slot_name = " + Catalog.quote(slot) + ", create_slot = true, copy_data = true, enabled = true)",
        "42501",
        reason ->
            ApplicationFailure.newNonRetryableFailure(
                target.endpoint().describe() + ": cannot subscribe: " + reason
                    + " (creating a subscription needs a superuser on the target; rds_superuser on RDS)",
                Errors.SYNC_REFUSED),
        "08",
        reason ->
            reason.contains("authentication failed") || reason.contains("pg_hba.conf")
                ? ApplicationFailure.newNonRetryableFailure(
                    target.endpoint().describe() + ": the target could not log in to the source: " + reason
                        + " (the source's pg_hba.conf must let that role in from the target's address, for a"
                        + " replication=database connection)",
                    Errors.SYNC_REFUSED)
                : ApplicationFailure.newFailure(
                    target.endpoint().describe()
                        + (reason.contains("publisher") ? ": the target could not reach the source: " : ": cannot connect: ") + reason,
                    Errors.DATABASE_UNREACHABLE),
        heartbeat);
  }

  /** Gives the subscription another connection string; its workers log in with it from their next start. */
  static void connectWith(LogicalSide target, String name, LogicalConnInfo source) {
    quietLogs(target);
    target.execute("ALTER SUBSCRIPTION " + Catalog.quote(name) + " CONNECTION " + source.sqlLiteral());
  }

  /**
   * The server logs a failed statement's text (and with log_statement, every DDL), password
   * included: not this session's, where the role may say so (a superuser; RDS refuses).
   * log_min_duration_statement too: creating the slot waits for a consistent point, which on a
   * busy source can take longer than a slow-statement threshold.
   */
  private static void quietLogs(LogicalSide target) {
    target.execute("SET standard_conforming_strings = on");
    for (String quiet :
        new String[] {"SET log_min_error_statement = panic", "SET log_statement = none", "SET log_min_duration_statement = -1"}) {
      try {
        target.execute(quiet);
      } catch (RuntimeException notAllowed) {
        // Then the server logs as its configuration says.
      }
    }
  }

  /**
   * Why the target's credential could not create the subscription, or empty: PostgreSQL up to 15
   * lets only a superuser (RDS: rds_superuser) do it; 16 also members of pg_create_subscription
   * with CREATE on the database.
   */
  static Optional<String> cannotSubscribe(LogicalSide target) {
    boolean may =
        target
            .queryOne(
                "SELECT r.rolsuper"
                    + " OR EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_superuser' AND pg_has_role(current_user, g.oid, 'MEMBER'))"
                    + " OR (current_setting('server_version_num')::int >= 160000"
                    + "   AND EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'pg_create_subscription'"
                    + "     AND pg_has_role(current_user, g.oid, 'USAGE'))"
                    + "   AND has_database_privilege(current_database(), 'CREATE'))"
                    + " FROM pg_roles r WHERE r.rolname = current_user",
                rs -> rs.getBoolean(1))
            .orElse(false);
    return may
        ? Optional.empty()
        : Optional.of(
            "the target's role " + target.endpoint().url().user() + " may not create a subscription (it needs a superuser;"
                + " rds_superuser on RDS; on PostgreSQL 16, pg_create_subscription and CREATE on the database)");
  }

  /** How many tables the target copies at once for one subscription. */
  static int copyWorkers(LogicalSide target) {
    return target
        .queryOne("SELECT current_setting('max_sync_workers_per_subscription')::int", rs -> rs.getInt(1))
        .orElse(2);
  }

  static void enable(LogicalSide target, String name) {
    target.execute("ALTER SUBSCRIPTION " + Catalog.quote(name) + " ENABLE");
  }

  static void disable(LogicalSide target, String name) {
    target.execute("ALTER SUBSCRIPTION " + Catalog.quote(name) + " DISABLE");
  }

  /** Whether any worker of the subscription (apply or table copy) is running. */
  static boolean working(LogicalSide target, String name) {
    return target
        .queryOne("SELECT count(pid) > 0 FROM pg_stat_subscription WHERE subname = ?", rs -> rs.getBoolean(1), name)
        .orElse(false);
  }

  /**
   * Drops the subscription without touching the source: disabled and detached from its slot
   * first, so that an unreachable source cannot make it fail and no WAL sender holds the slot
   * when the caller drops it. Returns whether there was one.
   */
  static boolean unsubscribe(LogicalSide target, String name) {
    if (subscription(target, name).isEmpty()) {
      return false;
    }
    String quoted = Catalog.quote(name);
    target.execute("ALTER SUBSCRIPTION " + quoted + " DISABLE");
    target.execute("ALTER SUBSCRIPTION " + quoted + " SET (slot_name = NONE)");
    target.execute("DROP SUBSCRIPTION IF EXISTS " + quoted);
    return true;
  }

  static List<TableState> tableStates(LogicalSide target, String subscription) {
    return target.query(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), sr.srsubstate::text"
            + " FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid"
            + " JOIN pg_class c ON c.oid = sr.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE s.subname = ? ORDER BY 1",
        rs -> new TableState(rs.getString(1), rs.getString(2)),
        subscription);
  }

  /** Errors the subscription's workers met since it was created (PostgreSQL 15+), 0 if unknown. */
  static long errors(LogicalSide target, String subscription) {
    return target
        .queryOne(
            "SELECT apply_error_count + sync_error_count FROM pg_stat_subscription_stats WHERE subname = ?",
            rs -> rs.getLong(1),
            subscription)
        .orElse(0L);
  }

  /**
   * Time since the subscription's apply worker last heard from the source where its WAL ends
   * ({@code latest_end_time}), or {@code null} when no apply worker runs or it never heard.
   */
  static Long sinceLatestEnd(LogicalSide target, String subscription) {
    return target
        .queryOne(
            "SELECT greatest(extract(epoch FROM clock_timestamp() - latest_end_time) * 1000, 0)::bigint"
                + " FROM pg_stat_subscription WHERE subname = ? AND relid IS NULL AND pid IS NOT NULL",
            rs -> (Long) rs.getObject(1, Long.class),
            subscription)
        .orElse(null);
  }

  /** Rows the subscription wrote into the published tables (statistics: an estimate). */
  static long rowsWritten(LogicalSide target) {
    return target
        .queryOne(
            "SELECT coalesce(sum(n_tup_ins), 0)::bigint FROM pg_stat_user_tables WHERE schemaname NOT LIKE 'ferry\\_sync\\_%'",
            rs -> rs.getLong(1))
        .orElse(0L);
  }

  // --- Bookkeeping ----------------------------------------------------------------------

  /** Whether a setup step was recorded done. */
  static Optional<String> step(LogicalSide target, String schema, String step) {
    if (!bookkept(target, schema)) {
      return Optional.empty();
    }
    return target.queryOne(
        "SELECT value FROM " + Catalog.quote(schema) + ".state WHERE step = ?", rs -> rs.getString(1), step);
  }

  static void recordStep(LogicalSide target, String schema, String step, String value) {
    target.execute(
        "INSERT INTO " + Catalog.quote(schema) + ".state (step, value) VALUES (?, ?)"
            + " ON CONFLICT (step) DO UPDATE SET value = excluded.value",
        step,
        value);
  }

  /**
   * Creates the bookkeeping and records the source's schema and the first step, in one
   * transaction: the schema is recorded if and only if the step is.
   */
  static void recordSchema(LogicalSide target, String schema, List<String> lines, String step) {
    String q = Catalog.quote(schema);
    target.inTransaction(
        () -> {
          target.execute("CREATE SCHEMA IF NOT EXISTS " + q);
          target.execute("COMMENT ON SCHEMA " + q + " IS 'Ferry: a logical sync''s bookkeeping; dropped when the sync is torn down'");
          target.execute("CREATE TABLE IF NOT EXISTS " + q + ".state (step text PRIMARY KEY, value text NOT NULL)");
          target.execute("CREATE TABLE IF NOT EXISTS " + q + ".source_schema (ord int PRIMARY KEY, line text NOT NULL)");
          target.execute("DELETE FROM " + q + ".source_schema");
          for (int i = 0; i < lines.size(); i++) {
            target.execute("INSERT INTO " + q + ".source_schema (ord, line) VALUES (?, ?)", i, lines.get(i));
          }
          recordStep(target, schema, step, "yes");
        });
  }

  /** The source's schema as recorded at setup; empty when the sync was never set up. */
  static Optional<List<String>> recordedSchema(LogicalSide target, String schema) {
    if (!bookkept(target, schema)) {
      return Optional.empty();
    }
    return Optional.of(
        target.query("SELECT line FROM " + Catalog.quote(schema) + ".source_schema ORDER BY ord", rs -> rs.getString(1)));
  }

  static void dropBookkeeping(LogicalSide target, String schema) {
    target.execute("DROP SCHEMA IF EXISTS " + Catalog.quote(schema) + " CASCADE");
  }

  private static boolean bookkept(LogicalSide target, String schema) {
    return target
        .queryOne("SELECT to_regclass(quote_ident(?) || '.state') IS NOT NULL", rs -> rs.getBoolean(1), schema)
        .orElse(false);
  }
}

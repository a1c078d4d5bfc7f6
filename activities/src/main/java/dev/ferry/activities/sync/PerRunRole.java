package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Catalog;
import dev.ferry.activities.postgres.Catalog.Table;
import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The logical subscription's login when the runbook says {@code sync.replicationRole: per-run}
 * (the default): a role made on the source for this run, {@link SyncSession#replicationRole()},
 * with no more rights than the subscription needs, whose password exists only in the worker's
 * memory and in the target's {@code pg_subscription} while it is valid.
 *
 * <p>What the role may do: LOGIN and REPLICATION (on RDS, membership of {@code rds_replication}
 * instead), USAGE on the schemas of the published tables where PUBLIC does not have it already,
 * and SELECT on those tables (PostgreSQL 15's subscriber copies each table with {@code COPY
 * schema.table TO STDOUT} through its own connection: without USAGE on the schema the copy fails
 * with "permission denied for schema").
 * Nothing else is granted; it still has what every role has through PUBLIC. REPLICATION itself
 * is broad: a replication connection can stream the WAL of the whole cluster where the source's
 * {@code pg_hba.conf} allows it. So the password is only valid while the subscription needs to
 * log in:
 *
 * <ul>
 *   <li>{@link #arm}: a new random password, sent to the source as a SCRAM verifier (the
 *       password itself never reaches the source's statement log), and to the target as the
 *       subscription's connection string;
 *   <li>once the subscription streams (its WAL sender holds the slot), {@link #watch} sets the
 *       role's password to NULL: the one in {@code pg_subscription} then logs in to nothing,
 *       while the connection already made goes on; when the subscription is found disconnected,
 *       it is armed again with a new password (a retried activity on another worker does the
 *       same: a password is never stored anywhere to be found again);
 *   <li>{@link #retire} at the drain: NOLOGIN, no password;
 *   <li>{@link #drop} at teardown (also on rollback): its sessions ended, what it owns and was
 *       granted in the source database dropped, the role dropped.
 * </ul>
 *
 * <p>PostgreSQL cannot keep the password out of {@code pg_subscription} altogether: the
 * subscription's workers log in with the connection string stored there whenever they connect
 * (a {@code passfile} or client certificate would have to be on the target's file system, which
 * RDS does not offer; {@code password_required=false} is for superuser-owned subscriptions and
 * still needs a password-less way in on the source). What is guaranteed instead: outside the
 * initial copy and the seconds after a reconnection, the password stored there is void; after
 * the drain there is no subscription; after teardown there is no role.
 */
final class PerRunRole implements SubscriptionLogin {
  private static final Logger log = LoggerFactory.getLogger(PerRunRole.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int OBJECTS_PER_GRANT = 500;
  /**
   * Schema {@code n} is one the role needs USAGE granted on: everyone's USAGE (PUBLIC's, as on
   * {@code public} up to PostgreSQL 14 and still on 15) already lets it in elsewhere.
   */
  private static final String PUBLIC_LACKS_USAGE =
      "NOT EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a"
          + " WHERE a.grantee = 0 AND a.privilege_type = 'USAGE')";

  private final SyncSession session;
  private final Duration rearmAfter;
  /** When this attempt last gave the role a password ({@link System#nanoTime}), or -1. */
  private long armedAt = -1;
  /** Since when the subscription has been seen disconnected ({@link System#nanoTime}), or -1. */
  private long disconnectedSince = -1;
  /** Whether the role may still have a password: an earlier attempt may have left one, so at first yes. */
  private boolean mayLogIn = true;

  PerRunRole(SyncSession session, Duration rearmAfter) {
    this.session = session;
    this.rearmAfter = rearmAfter;
  }

  /** How Ferry's credential can make a role that may replicate. */
  private enum How {
    /** A superuser: CREATE ROLE … REPLICATION. */
    SUPERUSER,
    /** PostgreSQL 16+: CREATEROLE and REPLICATION itself. */
    REPLICATION_ATTRIBUTE,
    /** RDS: CREATEROLE, and the role gets membership of rds_replication instead of the attribute. */
    RDS_REPLICATION
  }

  private record Ability(How how, String reason, boolean superuser, int version) {}

  private static Ability ability(LogicalSide source) {
    return source
        .queryOne(
            "SELECT r.rolsuper, r.rolcreaterole, r.rolreplication, current_setting('server_version_num')::int,"
                + " EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication'),"
                + " EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication'"
                + "   AND pg_has_role(current_user, g.oid, 'MEMBER WITH ADMIN OPTION'))"
                + " FROM pg_roles r WHERE r.rolname = current_user",
            rs -> {
              boolean superuser = rs.getBoolean(1);
              boolean createRole = rs.getBoolean(2);
              boolean replication = rs.getBoolean(3);
              int version = rs.getInt(4);
              boolean rds = rs.getBoolean(5);
              boolean rdsAdmin = rs.getBoolean(6);
              String user = source.endpoint().url().user();
              if (superuser) {
                return new Ability(How.SUPERUSER, null, true, version);
              }
              if (!createRole) {
                return new Ability(null, "the role " + user + " may not create roles (no CREATEROLE)", false, version);
              }
              if (version >= 160000 && replication) {
                return new Ability(How.REPLICATION_ATTRIBUTE, null, false, version);
              }
              if (rds && (version < 160000 || rdsAdmin)) {
                return new Ability(How.RDS_REPLICATION, null, false, version);
              }
              return new Ability(
                  null,
                  version < 160000
                      ? "the role " + user + " has CREATEROLE, but before PostgreSQL 16 only a superuser may create a role"
                          + " that may replicate (and there is no rds_replication role to grant)"
                      : "the role " + user + " has CREATEROLE but not REPLICATION, which PostgreSQL 16 needs to create a"
                          + " role that may replicate",
                  false,
                  version);
            })
        .orElseThrow();
  }

  /**
   * Why Ferry's credential could not make and equip the run's role on this source, or empty:
   * it must be able to create a role that may replicate, and to grant USAGE on the published
   * tables' schemas and SELECT on the tables (owner, or the privilege WITH GRANT OPTION).
   */
  static Optional<String> cannotCreate(LogicalSide source, List<Table> tables) {
    List<String> reasons = new ArrayList<>();
    Ability ability = ability(source);
    if (ability.how() == null) {
      reasons.add(ability.reason());
    }
    String[] schemas = tables.stream().map(Table::schema).toArray(String[]::new);
    String[] names = tables.stream().map(Table::name).toArray(String[]::new);
    List<String> schemasWithout =
        source.query(
            "SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.nspname = ANY (?) AND " + PUBLIC_LACKS_USAGE
                + " AND NOT has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION') ORDER BY 1",
            rs -> rs.getString(1),
            (Object) schemas);
    if (!schemasWithout.isEmpty()) {
      reasons.add("it may not grant USAGE on the schema(s) " + named(schemasWithout) + " (owner, or USAGE WITH GRANT OPTION)");
    }
    List<String> tablesWithout =
        source.query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
                + " FROM unnest(?::text[], ?::text[]) AS t(s, r)"
                + " JOIN pg_namespace n ON n.nspname = t.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.r"
                + " WHERE NOT has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION') ORDER BY 1",
            rs -> rs.getString(1),
            schemas,
            names);
    if (!tablesWithout.isEmpty()) {
      reasons.add("it may not grant SELECT on " + named(tablesWithout) + " (owner, or SELECT WITH GRANT OPTION)");
    }
    return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
  }

  @Override
  public List<String> refusals(LogicalSide source, List<Table> tables) {
    return cannotCreate(source, tables)
        .map(
            reason ->
                List.of(
                    "sync.replicationRole per-run: Ferry cannot make the run's replication role " + session.replicationRole()
                        + " on the source: " + reason + ". Grant what is missing, or set sync.replicationRole:"
                        + " source-credential to let the subscription log in with the source credential (the target"
                        + " then keeps its password in pg_subscription until the drain)"))
        .orElse(List.of());
  }

  @Override
  public List<String> warnings(LogicalSide source, List<Table> tables) {
    return List.of();
  }

  /**
   * Creates the role if it does not exist (no password yet), and gives it exactly what it needs
   * on {@code tables}. Every step is repeated on a retry: each is idempotent.
   */
  @Override
  public void prepare(LogicalSide source, List<Table> tables) {
    Ability ability = ability(source);
    String role = Catalog.quote(session.replicationRole());
    writable(source);
    if (!exists(source)) {
      if (ability.how() == null) {
        throw ApplicationFailure.newNonRetryableFailure(refusals(source, tables).get(0), Errors.SYNC_REFUSED);
      }
      // 42710: another attempt created it meanwhile.
      source.executeUnless(
          "CREATE ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD NULL"
              + (ability.how() == How.RDS_REPLICATION ? " NOREPLICATION" : " REPLICATION"),
          "42710");
      log.info("created the replication role {} on {}", session.replicationRole(), session.source().describe());
    }
    if (ability.how() == How.RDS_REPLICATION) {
      source.execute("GRANT rds_replication TO " + role);
    }
    if (!ability.superuser()) {
      // So that Ferry's credential may end the role's sessions and drop what it owns at teardown.
      source.execute("GRANT " + role + " TO CURRENT_USER" + (ability.version() >= 160000 ? " WITH INHERIT TRUE" : ""));
    }
    source.execute(
        "COMMENT ON ROLE " + role + " IS '"
            + ("Ferry: the logical sync's login of run " + session.workflowId() + "; dropped when the sync is torn down").replace("'", "''")
            + "'");
    List<String> schemas =
        source.query(
            "SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.nspname = ANY (?) AND " + PUBLIC_LACKS_USAGE + " ORDER BY 1",
            rs -> rs.getString(1),
            (Object) tables.stream().map(Table::schema).distinct().toArray(String[]::new));
    for (List<String> some : chunks(schemas)) {
      source.execute("GRANT USAGE ON SCHEMA " + String.join(", ", some) + " TO " + role);
    }
    for (List<String> some : chunks(tables.stream().map(Table::sql).toList())) {
      source.execute("GRANT SELECT ON TABLE " + String.join(", ", some) + " TO " + role);
    }
  }

  @Override
  public LogicalConnInfo arm(LogicalSide source, LogicalSide target) {
    String password = newPassword();
    writable(source);
    // A SCRAM verifier, not the password: a statement log on the source learns nothing usable.
    source.execute(
        "ALTER ROLE " + Catalog.quote(session.replicationRole()) + " LOGIN PASSWORD '"
            + PasswordUtil.encodeScramSha256(password.toCharArray()) + "'");
    LogicalConnInfo conninfo = LogicalConnInfo.of(session.source().url(), session.replicationRole(), password);
    source.hide(conninfo);
    target.hide(conninfo);
    armedAt = System.nanoTime();
    mayLogIn = true;
    return conninfo;
  }

  @Override
  public Optional<LogicalConnInfo> renew(LogicalSide source, LogicalSide target) {
    return Optional.of(arm(source, target));
  }

  /**
   * Streaming: the password goes (once per attempt at most). Not streaming: a new password when
   * this attempt has none to offer (it never gave one, or took it back), or when the one it gave
   * has not got the subscription in for {@link #rearmAfter} (someone changed it); otherwise the
   * subscription's next try (PostgreSQL retries every few seconds) logs in with it. Changing the
   * connection string restarts the subscription's worker, so it is not done more often.
   */
  @Override
  public void watch(LogicalSide source, LogicalSide target, String subscription, boolean streaming) {
    long now = System.nanoTime();
    if (streaming) {
      disconnectedSince = -1;
      if (mayLogIn) {
        disarm(source);
      }
      return;
    }
    if (disconnectedSince < 0) {
      disconnectedSince = now;
    }
    boolean noPassword = armedAt < 0 || !mayLogIn;
    boolean notGettingIn = now - Math.max(disconnectedSince, armedAt) >= rearmAfter.toNanos();
    if (noPassword || notGettingIn) {
      LogicalTarget.connectWith(target, subscription, arm(source, target));
      log.info(
          "the subscription {} was not connected to the source: its role {} has a new password until it is",
          subscription, session.replicationRole());
    }
  }

  /** The role keeps LOGIN (so it can be armed again) but has no password: nobody can log in as it. */
  void disarm(LogicalSide source) {
    writable(source);
    source.execute("ALTER ROLE " + Catalog.quote(session.replicationRole()) + " PASSWORD NULL");
    mayLogIn = false;
  }

  @Override
  public void retire(LogicalSide source) {
    if (exists(source)) {
      writable(source);
      source.execute("ALTER ROLE " + Catalog.quote(session.replicationRole()) + " NOLOGIN PASSWORD NULL");
    }
    mayLogIn = false;
  }

  /**
   * Ends the role's sessions, drops what it owns and was granted in the source database, and
   * the role. Dropping a role that is gone succeeds; a source credential that never made one
   * (source-credential runs) never gets past the first look.
   */
  static void drop(LogicalSide source, SyncSession session) {
    String name = session.replicationRole();
    if (!exists(source, name)) {
      return;
    }
    String role = Catalog.quote(name);
    writable(source);
    source.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ? AND pid <> pg_backend_pid()",
        rs -> rs.getBoolean(1),
        name);
    // Its privileges here (and anything it could have created): without this DROP ROLE refuses.
    source.execute("DROP OWNED BY " + role);
    source.execute("DROP ROLE IF EXISTS " + role);
    log.info("dropped the replication role {} on {}", name, session.source().describe());
  }

  private boolean exists(LogicalSide source) {
    return exists(source, session.replicationRole());
  }

  private static boolean exists(LogicalSide source, String role) {
    return source.queryOne("SELECT 1 FROM pg_roles WHERE rolname = ?", rs -> true, role).isPresent();
  }

  /** At the drain and teardown the source is frozen: new sessions start read-only. */
  private static void writable(LogicalSide source) {
    source.execute("SET default_transaction_read_only = off");
  }

  /** 256 random bits, URL-safe base64: nothing to quote in a connection string. */
  private static String newPassword() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static List<List<String>> chunks(List<String> items) {
    List<List<String>> chunks = new ArrayList<>();
    for (int i = 0; i < items.size(); i += OBJECTS_PER_GRANT) {
      chunks.add(items.subList(i, Math.min(items.size(), i + OBJECTS_PER_GRANT)));
    }
    return chunks;
  }

  private static String named(List<String> names) {
    return names.size() <= 10 ? String.join(", ", names) : String.join(", ", names.subList(0, 10)) + " and " + (names.size() - 10) + " more";
  }
}

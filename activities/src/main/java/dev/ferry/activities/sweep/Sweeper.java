package dev.ferry.activities.sweep;

import dev.ferry.activities.copy.CopyLeftovers;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PreverifyLeftovers;
import dev.ferry.activities.postgres.RunComment;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.rehearsal.RehearsalActivitiesImpl;
import dev.ferry.activities.sync.SyncLeftovers;
import dev.ferry.activities.sync.SyncLeftovers.Kind;
import dev.ferry.activities.sync.SyncLeftovers.Leftover;
import dev.ferry.model.rehearsal.ScratchDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sweep of what runs left behind: dump directories on this worker's disk, and in the
 * databases the ledger's runbooks name, the syncs' objects ({@link SyncLeftovers}: {@code
 * ferry_sync_*} schemas with their capture triggers and functions, publications, replication
 * slots, subscriptions, per-run replication roles, the logical pre-verification's key capture),
 * pre-verifications' bookkeeping ({@link PreverifyLeftovers}: {@code ferry_verify_*} with its
 * triggers) and rehearsals' scratch databases ({@code ferry_rehearsal_<8 hex>}).
 *
 * <p>The rule: an object is removed only when it can be traced to a run, and the ledger shows
 * that run ended, or shows it open while Temporal has no running workflow of that id (the worker
 * or the embedded server died with it). A run Temporal says is running, or that Temporal cannot
 * be asked about, keeps everything. An object it cannot trace to a run (no comment naming one, no
 * object of the same sync tag naming one), or whose run the ledger does not know, is left and
 * logged. Dumps are also left until they are {@code dumpGrace} old.
 *
 * <p>Which databases: only those this worker reaches through the references in the runbooks of
 * runs that have not ended or ended within {@link #LOOKBACK}, and of rehearsal schedules,
 * resolved through the same allow-list as any run's ({@code FERRY_SECRET_REFS}). A sweep never
 * throws: every failure is logged and the rest goes on; the next sweep tries again.
 */
public final class Sweeper {
  private static final Logger log = LoggerFactory.getLogger(Sweeper.class);
  /** How far back the ledger's ended runs lead the sweep to databases. */
  public static final Duration LOOKBACK = Duration.ofDays(30);
  /** How old a dump of an ended run must be before it is deleted. */
  public static final Duration DUMP_GRACE = Duration.ofHours(1);

  private static final Pattern SCRATCH = Pattern.compile("ferry_rehearsal_([0-9a-f]{8})");
  private static final Pattern SYNC_DUMP = Pattern.compile("ferry_sync_([0-9a-z]{1,12})-(schema|data)");

  /** Whether Temporal has a running workflow of this id; throws when it cannot say. */
  @FunctionalInterface
  public interface RunningCheck {
    boolean isRunning(String workflowId);
  }

  private final SweepLedger ledger;
  private final Databases databases;
  private final RunningCheck running;
  private final SnapshotStore snapshots;
  private final Path syncWorkDir;
  private final Duration dumpGrace;
  private final Clock clock;

  /**
   * @param ledger the run ledger, or null (then only the dumps' partial directories are known
   *     and nothing is swept but what {@link SnapshotStore#sweepAbandoned} deletes)
   * @param syncWorkDir where the sync's initial copy writes its dumps ({@code <work dir>/sync})
   */
  public Sweeper(
      LedgerDatabase ledger, Databases databases, RunningCheck running, SnapshotStore snapshots, Path syncWorkDir,
      Duration dumpGrace, Clock clock) {
    this.ledger = ledger == null ? null : new SweepLedger(ledger);
    this.databases = databases;
    this.running = running;
    this.snapshots = snapshots;
    this.syncWorkDir = syncWorkDir;
    this.dumpGrace = dumpGrace;
    this.clock = clock;
  }

  /** Sweeps once; logs each removal (what, where, why) and each leftover it leaves. */
  public SweepReport sweep() {
    SweepReport report = new SweepReport();
    if (ledger == null) {
      log.info("sweep: no run ledger (FERRY_LEDGER_URL unset): only partial dumps are swept, when the worker starts");
      return report;
    }
    RunVerdicts owners = new RunVerdicts(ledger, running);
    sweepSnapshots(report, owners);
    Map<String, String> tagRuns = new HashMap<>();
    try {
      sweepDatabases(report, owners, tagRuns);
    } catch (RuntimeException e) {
      log.warn("sweep: the databases were not swept: {}", e.getMessage());
    }
    sweepSyncDumps(report, owners, tagRuns);
    log.info("sweep: {}", report);
    return report;
  }

  // --- Dumps ------------------------------------------------------------------------------

  private void sweepSnapshots(SweepReport report, RunVerdicts owners) {
    Instant changedBefore = clock.instant().minus(dumpGrace);
    for (String run : snapshots.runDirectories()) {
      Path where = snapshots.root().resolve(run);
      RunVerdicts.Owner owner = owners.of(run);
      switch (owner.verdict()) {
        case RUNNING -> {}
        case UNKNOWN -> left(report, "dumps of " + run, where.toString(), owner.why());
        case ENDED -> {
          for (Path dump : snapshots.deleteDumpsOf(run, changedBefore)) {
            removed(report, "dump " + dump.getFileName(), where.toString(), owner.why());
          }
          if (Files.isDirectory(where)) {
            left(report, "dumps of " + run, where.toString(),
                owner.why() + ", but a dump there is younger than " + dumpGrace.toMinutes() + " min or being written");
          }
        }
      }
    }
  }

  private void sweepSyncDumps(SweepReport report, RunVerdicts owners, Map<String, String> tagRuns) {
    if (syncWorkDir == null || !Files.isDirectory(syncWorkDir)) {
      return;
    }
    Instant changedBefore = clock.instant().minus(dumpGrace);
    try (Stream<Path> dirs = Files.list(syncWorkDir)) {
      for (Path dir : dirs.filter(Files::isDirectory).toList()) {
        Matcher m = SYNC_DUMP.matcher(dir.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        String run = tagRuns.get(m.group(1));
        if (run == null) {
          left(report, "sync dump " + dir.getFileName(), syncWorkDir.toString(), "no sync object of tag " + m.group(1) + " names its run");
          continue;
        }
        RunVerdicts.Owner owner = owners.of(run);
        if (owner.verdict() == RunVerdicts.Verdict.ENDED && Files.getLastModifiedTime(dir).toInstant().isBefore(changedBefore)) {
          deleteTree(dir);
          removed(report, "sync dump " + dir.getFileName(), syncWorkDir.toString(), owner.why());
        } else if (owner.verdict() == RunVerdicts.Verdict.UNKNOWN) {
          left(report, "sync dump " + dir.getFileName(), syncWorkDir.toString(), owner.why());
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("sweep: could not sweep the sync dumps in {}: {}", syncWorkDir, e.getMessage());
    }
  }

  // --- Databases --------------------------------------------------------------------------

  /** A database this worker reached, and what it found there. */
  private record Reached(Endpoint endpoint, List<Leftover> leftovers) {}

  private void sweepDatabases(SweepReport report, RunVerdicts owners, Map<String, String> tagRuns) {
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    Set<String> runbookDatabases = new java.util.HashSet<>();
    for (SweepLedger.Reference ref : ledger.references(LOOKBACK)) {
      try {
        Endpoint endpoint = databases.resolve(ref.side(), ref.reference());
        endpoints.putIfAbsent(endpoint.url().toString(), endpoint);
        runbookDatabases.add(server(endpoint) + "/" + endpoint.url().database());
      } catch (RuntimeException e) {
        // Not in this worker's allow-list, or unset here: another worker's, or gone.
        log.info("sweep: not looking through {}: {}", ref.reference(), e.getMessage());
      }
    }

    List<Reached> reached = new ArrayList<>();
    for (Endpoint endpoint : endpoints.values()) {
      try {
        reached.add(new Reached(endpoint, SyncLeftovers.find(databases, endpoint)));
      } catch (RuntimeException e) {
        log.info("sweep: could not look at {}: {}", endpoint.url(), e.getMessage());
      }
    }
    reached.forEach(r -> r.leftovers().stream().filter(l -> l.run() != null).forEach(l -> tagRuns.putIfAbsent(l.tag(), l.run())));
    Map<String, Long> subscriptionOids = new HashMap<>();
    reached.forEach(r -> r.leftovers().stream().filter(l -> l.kind() == Kind.SUBSCRIPTION).forEach(l -> subscriptionOids.put(l.tag(), l.oid())));

    Set<String> rolesDone = new java.util.HashSet<>();
    for (Kind kind : Kind.values()) {
      for (Reached r : reached) {
        for (Leftover l : r.leftovers()) {
          if (l.kind() != kind) {
            continue;
          }
          String where = kind == Kind.ROLE ? server(r.endpoint()) : r.endpoint().url().toString();
          if (kind == Kind.ROLE && !rolesDone.add(where + "/" + l.name())) {
            continue; // the same role, seen through another database of its server
          }
          String run = l.run() != null ? l.run() : tagRuns.get(l.tag());
          if (run == null) {
            left(report, kind.label() + " " + l.name(), where,
                "cannot tell which run made it (no comment naming a run on it or on another object of sync " + l.tag() + ")");
            continue;
          }
          RunVerdicts.Owner owner = owners.of(run);
          if (owner.verdict() == RunVerdicts.Verdict.UNKNOWN) {
            left(report, kind.label() + " " + l.name(), where, owner.why());
          } else if (owner.verdict() == RunVerdicts.Verdict.ENDED) {
            try {
              if (kind == Kind.ROLE) {
                // Its grants are in whichever of the server's databases it was given some.
                List<Endpoint> ofServer =
                    reached.stream().map(Reached::endpoint).filter(e -> server(e).equals(server(r.endpoint()))).toList();
                SyncLeftovers.removeRole(databases, ofServer, l, run);
              } else {
                SyncLeftovers.remove(databases, r.endpoint(), l, run, subscriptionOids.get(l.tag()));
              }
              removed(report, kind.label() + " " + l.name(), where, owner.why());
            } catch (RuntimeException e) {
              left(report, kind.label() + " " + l.name(), where, owner.why() + ", but removing it failed (next sweep tries again): " + e.getMessage());
            }
          }
        }
      }
    }
    for (Reached r : reached) {
      sweepPreverifications(report, owners, r.endpoint());
      sweepCopies(report, owners, r.endpoint());
    }
    sweepScratchDatabases(report, owners, endpoints.values(), runbookDatabases);
  }

  /** The pre-verifications' bookkeeping of ended runs ({@link PreverifyLeftovers}) in one database. */
  private void sweepPreverifications(SweepReport report, RunVerdicts owners, Endpoint endpoint) {
    // Its target triggers may sit on a frozen source: removing them passes the run's fence.
    sweepSchemas(
        report, owners, endpoint, "pre-verification",
        c -> PreverifyLeftovers.find(c).stream().map(l -> new Found(l.schema(), l.run(), r -> PreverifyLeftovers.remove(r, l))).toList(),
        true);
  }

  /** The streaming copies' bookkeeping of ended runs ({@link CopyLeftovers}) in one database. */
  private void sweepCopies(SweepReport report, RunVerdicts owners, Endpoint endpoint) {
    sweepSchemas(
        report, owners, endpoint, "streaming copy",
        c -> CopyLeftovers.find(c).stream().map(l -> new Found(l.schema(), l.run(), r -> CopyLeftovers.remove(r, l))).toList(),
        false);
  }

  /** Work on a session that may fail with the server's error. */
  @FunctionalInterface
  private interface OnSession<T> {
    T on(Connection c) throws SQLException;
  }

  /** A bookkeeping schema a run left, named after the run in its comment ({@code run} null when not). */
  private record Found(String schema, String run, RemoveOn remove) {}

  @FunctionalInterface
  private interface RemoveOn {
    void on(Connection c) throws SQLException;
  }

  /**
   * One kind of a run's bookkeeping schema in one database: removed when its run has ended, left
   * (and said why) when the run is unknown or its owner cannot be told; a running run's is kept.
   */
  private void sweepSchemas(
      SweepReport report, RunVerdicts owners, Endpoint endpoint, String kind, OnSession<List<Found>> find, boolean pastFence) {
    String where = endpoint.url().toString();
    List<Found> found;
    try (Connection c = databases.connect(endpoint, "ferry-sweep")) {
      found = find.on(c);
    } catch (SQLException | RuntimeException e) {
      log.info("sweep: could not look for {} schemas in {}: {}", kind, where, e.getMessage());
      return;
    }
    for (Found l : found) {
      String what = kind + " " + l.schema();
      if (l.run() == null) {
        left(report, what, where, "cannot tell which run made it (no comment naming a run)");
        continue;
      }
      RunVerdicts.Owner owner = owners.of(l.run());
      if (owner.verdict() == RunVerdicts.Verdict.UNKNOWN) {
        left(report, what, where, owner.why());
      } else if (owner.verdict() == RunVerdicts.Verdict.ENDED) {
        try (Connection c =
            pastFence ? databases.connectPastFence(endpoint, "ferry-sweep", l.run()) : databases.connect(endpoint, "ferry-sweep")) {
          l.remove().on(c);
          removed(report, what, where, owner.why());
        } catch (SQLException | RuntimeException e) {
          left(report, what, where, owner.why() + ", but removing it failed (next sweep tries again): " + e.getMessage());
        }
      }
    }
  }

  private void sweepScratchDatabases(SweepReport report, RunVerdicts owners, Iterable<Endpoint> endpoints, Set<String> runbookDatabases) {
    RehearsalActivitiesImpl scratch = new RehearsalActivitiesImpl(databases);
    Set<String> servers = new java.util.HashSet<>();
    for (Endpoint endpoint : endpoints) {
      if (!servers.add(server(endpoint))) {
        continue;
      }
      Map<String, String> found = new LinkedHashMap<>();
      try (Connection c = databases.connect(endpoint, "ferry-sweep");
          PreparedStatement s =
              c.prepareStatement(
                  "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname ~ '^ferry_rehearsal_[0-9a-f]{8}$'");
          ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          found.put(rs.getString(1), rs.getString(2));
        }
      } catch (SQLException | RuntimeException e) {
        log.info("sweep: could not list the scratch databases of {}: {}", server(endpoint), e.getMessage());
        continue;
      }
      for (Map.Entry<String, String> db : found.entrySet()) {
        String name = db.getKey();
        String what = "scratch database " + name;
        if (runbookDatabases.contains(server(endpoint) + "/" + name)) {
          left(report, what, server(endpoint), "a runbook names it as its own database");
          continue;
        }
        RunVerdicts.Owner owner = scratchOwner(owners, name, db.getValue());
        if (owner.verdict() == RunVerdicts.Verdict.UNKNOWN) {
          left(report, what, server(endpoint), owner.why());
        } else if (owner.verdict() == RunVerdicts.Verdict.ENDED) {
          try {
            scratch.dropScratchDatabase(new ScratchDatabase(name, endpoint.reference()));
            removed(report, what, server(endpoint), owner.why());
          } catch (RuntimeException e) {
            left(report, what, server(endpoint), owner.why() + ", but dropping it failed (next sweep tries again): " + e.getMessage());
          }
        }
      }
    }
  }

  /**
   * The run of a scratch database: the one its comment names, else (made before comments did) the
   * ledger's rehearsals whose id ends in its 8 hex digits, all of which must have ended.
   */
  private RunVerdicts.Owner scratchOwner(RunVerdicts owners, String name, String comment) {
    String run = RunComment.runOf(comment).orElse(null);
    if (run != null) {
      return owners.of(run);
    }
    Matcher m = SCRATCH.matcher(name);
    List<SweepLedger.Run> candidates = m.matches() ? ledger.rehearsalsEndingIn(m.group(1)) : List.of();
    if (candidates.isEmpty()) {
      return new RunVerdicts.Owner(RunVerdicts.Verdict.UNKNOWN, "cannot tell which rehearsal made it (no comment naming a run, no rehearsal ending in its hex in the ledger)");
    }
    RunVerdicts.Owner last = null;
    for (SweepLedger.Run candidate : candidates) {
      last = owners.of(candidate.id());
      if (last.verdict() != RunVerdicts.Verdict.ENDED) {
        return last;
      }
    }
    return last;
  }

  // --- Helpers ----------------------------------------------------------------------------

  private static String server(Endpoint endpoint) {
    return endpoint.url().host() + ":" + endpoint.url().port();
  }

  private static void removed(SweepReport report, String what, String where, String why) {
    SweepReport.Entry e = new SweepReport.Entry(what, where, why);
    report.removed(e);
    log.warn("sweep: removed {}", e);
  }

  private static void left(SweepReport report, String what, String where, String why) {
    SweepReport.Entry e = new SweepReport.Entry(what, where, why);
    report.left(e);
    log.warn("sweep: left {}", e);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

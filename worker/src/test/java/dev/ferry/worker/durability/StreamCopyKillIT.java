package dev.ferry.worker.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.testing.postgres.TestCluster;
import dev.ferry.testing.process.DatabaseState;
import dev.ferry.testing.process.FerryProcess;
import dev.ferry.testing.process.IndependentComparison;
import dev.ferry.testing.process.Leftovers;
import dev.ferry.testing.process.ProcessStack;
import dev.ferry.testing.process.RunApi;
import dev.ferry.testing.process.RunHistory;
import dev.ferry.testing.process.TestApp;
import dev.ferry.testing.process.Waiting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streamed copy ({@code snapshot.method: stream}) of a single-phase run with a worker process
 * SIGKILLed in the middle of a table, on a stack of real processes (Temporal server, API, two
 * workers; {@link ProcessStack}) against the real clusters. The killed worker runs a copier, not
 * the snapshot's holder: the copy goes on from the same snapshot, and tables copied and checked
 * before the kill must not be copied again. (A worker that dies with the holder loses the
 * snapshot; in single-phase the finished tables then stand only if no transaction committed on
 * the source's server meanwhile, which on these shared clusters is never: that case is tested at
 * the activity level, {@code StreamCopyRecoveryTest}.)
 *
 * <p>Every worker has one activity slot ({@code FERRY_MAX_ACTIVITIES=1}): the holder runs on the
 * loop queue, so each worker runs one of the two copiers at once, and one of them runs beside the
 * holder and the other on the worker that is killed.
 */
class StreamCopyKillIT {
  /** Four tables big enough that a copier is seen in the middle of one. */
  static final int BIG_TABLES = 4;
  static final long ROWS_PER_BIG_TABLE = 400_000;

  @TempDir static Path workDir;
  static TestApp app;
  static ProcessStack stack;

  @BeforeAll
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  static void startStack() throws Exception {
    app = new TestApp("visits", TestCluster.uniqueDatabaseName("visits"), TestCluster.uniqueDatabaseName("visits"));
    StringBuilder script = new StringBuilder(Files.readString(TestCluster.sampleShopSql(), StandardCharsets.UTF_8)).append('\n');
    for (int i = 1; i <= BIG_TABLES; i++) {
      script.append("CREATE TABLE public.visits_").append(i)
          .append(" (id bigint PRIMARY KEY, path text NOT NULL, customer_id bigint, seen_at timestamptz NOT NULL);\n")
          .append("INSERT INTO public.visits_").append(i)
          .append(" SELECT g, '/p/' || (g % 1000), CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 5000 END,")
          .append(" '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, ")
          .append(ROWS_PER_BIG_TABLE).append(") g;\n")
          .append("CREATE INDEX visits_").append(i).append("_path_idx ON public.visits_").append(i).append(" (path);\n");
    }
    script.append("ANALYZE;\n");
    TestCluster.SOURCE.createFromScript(app.source(), script.toString().getBytes(StandardCharsets.UTF_8));
    TestCluster.TARGET.createDatabase(app.target());
    stack = ProcessStack.start("stream-copy-kill", workDir, env -> app.addTo(env).setForWorker("FERRY_MAX_ACTIVITIES", "1"));
    stack.startApiAndWorker();
    stack.startWorker();
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (stack != null) {
      System.out.println(stack.logTails());
      stack.close();
    }
    if (app != null) {
      app.close();
    }
  }

  /** A copier in the middle of a table, on a worker that does not hold the snapshot. */
  record MidTable(FerryProcess worker, int copier, String table, long rows, java.util.Set<String> checked) {}

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void copierWorkerKilledMidTable_runVerifies_tablesCheckedBeforeTheKillNotCopiedAgain_nothingLeft() throws Exception {
    RunApi runs = stack.runs();
    RunHistory history = stack.history();
    String runId =
        runs.start(app.runbookHead("single-phase", "stream") + "gates: {start: {approvers: [arjun]}, decommission: {approvers: [arjun]}}\n");
    runs.awaitGate(runId, "start", Duration.ofMinutes(2));
    runs.approve(runId, "start", "kill test: go");

    MidTable[] seen = new MidTable[1];
    Waiting.until(
        "a table copied and checked, and a copier on a worker without the snapshot's holder in the middle of another",
        () -> (seen[0] = midTable(runId, history)) != null,
        Duration.ofMinutes(4));
    MidTable mid = seen[0];
    Instant killedAt = mid.worker().kill();
    // What the target holds of each checked table, as files and transactions: copying a table
    // again truncates it (a new relfilenode) and writes its rows in a new transaction (new xmin).
    Map<String, String> before = fingerprints(mid.checked());
    String inFlightBefore = fingerprints(java.util.Set.of(mid.table())).get(mid.table());
    FerryProcess replacement = stack.startWorker();

    runs.awaitGate(runId, "decommission", Duration.ofMinutes(4));
    runs.approve(runId, "decommission", "kill test: verified");
    JsonNode done = runs.awaitEnd(runId, Duration.ofMinutes(2));

    System.out.println(
        "stream copy kill: killed " + mid.worker() + " at " + killedAt + " while copier " + mid.copier() + " had copied " + mid.rows()
            + " rows of " + mid.table() + "; checked before: " + mid.checked() + "; replacement " + replacement
            + "; copiers ended: " + history.ended(runId, "CopyTables"));
    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    assertThat(done.path("verification").path("mismatches").asInt(-1)).as(done.path("verification").toString()).isZero();
    // The killed copier's activity was retried after its heartbeat timeout, on a live worker.
    assertThat(history.ended(runId, "CopyTables"))
        .anySatisfy(a -> {
          assertThat(a.retriedAfterHeartbeatTimeout()).as(a.toString()).isTrue();
          assertThat(mid.worker().isIdentity(a.identity())).as(a.toString()).isFalse();
        });
    // One snapshot: the holder lived, nothing was started again from a new one. (Counted as
    // scheduled: the copy cancels its holder without waiting, and with steps starting eagerly
    // the run may close before the holder's worker answers the cancel.)
    assertThat(history.scheduled(runId, "HoldSnapshot")).isEqualTo(1);
    assertThat(done.path("notes").toString()).doesNotContain("snapshot 1 was lost");
    // Tables checked before the kill are as they were: not copied again.
    assertThat(fingerprints(mid.checked())).isEqualTo(before);
    // The measure sees a copy: the table in flight was copied (again) after the kill.
    assertThat(fingerprints(java.util.Set.of(mid.table())).get(mid.table())).isNotEqualTo(inFlightBefore);

    IndependentComparison comparison = IndependentComparison.of(TestCluster.SOURCE, app.source(), TestCluster.TARGET, app.target());
    assertThat(comparison.differences()).as(comparison.toString()).isEmpty();
    for (int i = 1; i <= BIG_TABLES; i++) {
      assertThat(comparison.sourceRows("public.visits_" + i)).isEqualTo(ROWS_PER_BIG_TABLE);
    }
    Waiting.until("the tools " + mid.worker() + " started to end", () -> mid.worker().orphans().isEmpty(), Duration.ofSeconds(30));
    // The run succeeded without moving traffic: the source stays frozen behind its fence.
    assertThat(Leftovers.fenced(TestCluster.SOURCE, app.source())).as("the source stays fenced").isTrue();
    assertThat(Leftovers.besidesTheFence(TestCluster.SOURCE, app.source())).as("on the source").isEmpty();
    assertThat(Leftovers.inDatabase(TestCluster.TARGET, app.target())).as("on the target (the copy's bookkeeping)").isEmpty();
    assertThat(Leftovers.sessions(TestCluster.SOURCE, app.source())).as("sessions on the source").isEmpty();
    assertThat(Leftovers.sessions(TestCluster.TARGET, app.target())).as("sessions on the target").isEmpty();
    assertThat(Leftovers.files(workDir)).as("files in the workers' FERRY_WORK_DIR").isEmpty();
  }

  /**
   * The copy's state now, from its bookkeeping on the target and the run's pending activities: at
   * least one table checked, and a copier whose worker does not hold the snapshot in the middle
   * of a {@code COPY} into another table; else null.
   */
  static MidTable midTable(String runId, RunHistory history) {
    String schema = bookkeepingSchema();
    if (schema == null) {
      return null;
    }
    java.util.Set<String> checked = new java.util.TreeSet<>();
    try (Connection c = TestCluster.TARGET.connect(app.target());
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT quote_ident(nspname) || '.' || quote_ident(relname) FROM " + schema + ".tables WHERE state = 'checked' ORDER BY 1")) {
      while (rs.next()) {
        checked.add(rs.getString(1));
      }
    } catch (java.sql.SQLException e) {
      return null; // dropped meanwhile, or not created yet
    }
    if (checked.isEmpty()) {
      return null;
    }
    var pending = history.pending(runId);
    String holder =
        pending.stream().filter(p -> p.activityType().equals("HoldSnapshot") && "STARTED".equals(p.state()))
            .map(RunHistory.Pending::lastWorkerIdentity).findFirst().orElse(null);
    if (holder == null) {
      return null;
    }
    String tag = schema.substring("ferry_copy_".length());
    for (RunHistory.Pending p : pending) {
      if (!p.activityType().equals("CopyTables") || !"STARTED".equals(p.state()) || holder.equals(p.lastWorkerIdentity())) {
        continue;
      }
      Optional<FerryProcess> worker = stack.workers().stream().filter(w -> w.isAlive() && w.isIdentity(p.lastWorkerIdentity())).findFirst();
      Optional<CopyRequest> request = history.input(runId, p.activityId(), CopyRequest.class);
      if (worker.isEmpty() || request.isEmpty()) {
        continue;
      }
      String application = "ferry-copy-" + tag + "-copier-" + request.get().copier();
      for (int i = 1; i <= BIG_TABLES; i++) {
        String table = "public.visits_" + i;
        if (checked.contains(table)) {
          continue;
        }
        long rows = DatabaseState.copyProgress(TestCluster.TARGET, app.target(), application, table);
        if (rows > 0) {
          return new MidTable(worker.get(), request.get().copier(), table, rows, checked);
        }
      }
    }
    return null;
  }

  static String bookkeepingSchema() {
    try (Connection c = TestCluster.TARGET.connect(app.target());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ferry\\_copy\\_%'")) {
      return rs.next() ? rs.getString(1) : null;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Each table's relfilenode and the smallest and largest xmin of its rows on the target. */
  static Map<String, String> fingerprints(java.util.Set<String> tables) throws Exception {
    Map<String, String> found = new java.util.TreeMap<>();
    try (Connection c = TestCluster.TARGET.connect(app.target());
        Statement s = c.createStatement()) {
      for (String table : tables) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT pg_relation_filenode('" + table + "'::regclass) || ' ' || coalesce(min(xmin::text::bigint), 0) || '-'"
                    + " || coalesce(max(xmin::text::bigint), 0) || ' ' || count(*) FROM " + table)) {
          rs.next();
          found.put(table, rs.getString(1));
        }
      }
    }
    return found;
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Progress;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyCheckpoint;
import dev.ferry.model.database.VerifyCheckpoint.TableCursor;
import dev.ferry.testing.postgres.TestCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Chunked verification of the shop between the real clusters. */
class VerifyActivitiesTest extends ShopDatabaseTest {
  @BeforeEach
  void restoreTheShop() {
    harness.restore(harness.dump());
  }

  @Test
  void identicalDatabases_matchTableByTableChunkByChunk() {
    VerificationReport report = harness.verify(shop);

    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(report.tables())
        .extracting(TableComparison::table, TableComparison::sourceRows, TableComparison::targetRows, TableComparison::matches)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("billing.invoices", 16000L, 16000L, true),
            org.assertj.core.groups.Tuple.tuple("public.customers", 5000L, 5000L, true),
            org.assertj.core.groups.Tuple.tuple("public.order_items", 60000L, 60000L, true),
            org.assertj.core.groups.Tuple.tuple("public.orders", 20000L, 20000L, true),
            org.assertj.core.groups.Tuple.tuple("public.products", 500L, 500L, true));
    // 60,000 rows in 50,000-row chunks: two of them.
    assertThat(report.tables()).filteredOn(t -> t.table().equals("public.order_items")).singleElement()
        .satisfies(t -> assertThat(t.chunks()).isEqualTo(2));
    assertThat(report.sequences()).isNotEmpty().allSatisfy(s -> assertThat(s.matches()).isTrue());
    assertThat(report.schema()).isEmpty();
  }

  @Test
  void namesAMissingRowAnExtraRowAndAMissingTable() throws Exception {
    TestCluster.TARGET.execute(
        shop.target,
        "DELETE FROM order_items WHERE order_id = 42 AND line_no = 1",
        "INSERT INTO customers (email, full_name, country, created_at) VALUES ('x@example.com', 'X', 'US', now())",
        "DROP TABLE billing.invoices CASCADE");

    VerificationReport report = harness.verify(shop);

    assertThat(report.tables())
        .filteredOn(t -> !t.matches())
        .extracting(TableComparison::table, TableComparison::sourceRows, TableComparison::targetRows)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("billing.invoices", 16000L, -1L),
            org.assertj.core.groups.Tuple.tuple("public.customers", 5000L, 5001L),
            org.assertj.core.groups.Tuple.tuple("public.order_items", 60000L, 59999L));
    assertThat(report.problems())
        .contains("billing.invoices: missing on target")
        .anySatisfy(p -> assertThat(p).startsWith("public.order_items: 1 of 2 chunk(s) differ").contains("(order_id, line_no) <= "));
    // The dropped table takes its schema with it: the schema comparison says so too.
    assertThat(report.schema()).anySatisfy(d -> assertThat(d.describe()).isEqualTo("table billing.invoices missing on target"));
  }

  @Test
  void aTableOnlyOnTheTarget_isNamedToo() throws Exception {
    TestCluster.TARGET.execute(shop.target, "CREATE TABLE public.stray (id int)");

    VerificationReport report = harness.verify(shop);

    assertThat(report.tables()).contains(TableComparison.oneSided("public.stray", -1, 0));
  }

  @Test
  void heartbeatsACheckpointAndResumesAfterTheTablesAndChunksItHadCompared() throws Exception {
    List<Progress> beats = new ArrayList<>();
    harness.env.setActivityHeartbeatListener(Progress.class, beats::add);
    // As if an earlier attempt had compared billing.invoices and the first chunk of
    // order_items, then died. The recorded figures are deliberately not the real ones: a
    // resumed run must keep them, not recount.
    TableComparison invoices =
        new TableComparison("billing.invoices", 7, 7, "primary key range", 1, 0, List.of(), true);
    String firstChunkEnd = String.valueOf(TestCluster.TARGET.queryLong(shop.target,
        "SELECT order_id FROM (SELECT order_id, line_no FROM order_items ORDER BY 1, 2 OFFSET 49999 LIMIT 1) k"));
    String firstChunkLine = String.valueOf(TestCluster.TARGET.queryLong(shop.target,
        "SELECT line_no FROM (SELECT order_id, line_no FROM order_items ORDER BY 1, 2 OFFSET 49999 LIMIT 1) k"));
    TableCursor items =
        new TableCursor("public.order_items", List.of(firstChunkEnd, firstChunkLine), 1, 3, 3, 0, List.of());
    harness.env.setHeartbeatDetails(
        new Progress(1, 5, 0, "public.order_items", new VerifyCheckpoint(List.of(invoices), List.of(items))));

    VerificationReport report = harness.verify(shop);

    assertThat(report.tables()).hasSize(5).contains(invoices);
    // 3 rows from the "earlier attempt", plus the 10,000 of the second chunk, counted now.
    assertThat(report.tables()).filteredOn(t -> t.table().equals("public.order_items")).singleElement()
        .satisfies(t -> {
          assertThat(t.chunks()).isEqualTo(2);
          assertThat(t.sourceRows()).isEqualTo(3 + 10_000);
          assertThat(t.matches()).isTrue();
        });
    // The SDK throttles heartbeats, so only the first one is certain to reach the listener: it
    // carries the resumed checkpoint on, whether the catalogs were still being read (no total
    // yet) or the tables were being compared.
    assertThat(beats).first().satisfies(p -> {
      assertThat(p.tablesTotal()).isIn(0L, 5L);
      assertThat(p.checkpoint().done()).contains(invoices);
    });
  }

  /**
   * An app's exclusive lock on a table makes the catalog read wait (pg_get_indexdef locks the
   * table): the activity heartbeats meanwhile, so the wait is not taken for a dead worker and
   * retried until the run fails, and the verification ends once the lock goes.
   */
  @Test
  void heartbeatsWhileAnAppsLockHoldsTheCatalogReadUp() throws Exception {
    List<Progress> beats = new java.util.concurrent.CopyOnWriteArrayList<>();
    harness.env.setActivityHeartbeatListener(Progress.class, beats::add);
    try (java.sql.Connection app = TestCluster.TARGET.connect(shop.target);
        java.sql.Statement s = app.createStatement()) {
      app.setAutoCommit(false);
      s.execute("LOCK TABLE public.products IN ACCESS EXCLUSIVE MODE");
      java.util.concurrent.CompletableFuture<VerificationReport> verifying =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> harness.verify(shop));
      dev.ferry.testing.Eventually.get(
          "a heartbeat while the app holds public.products", () -> beats.size(), n -> n > 0);
      assertThat(verifying).as("the verification waits for the app's lock").isNotDone();
      app.commit();

      VerificationReport report = verifying.get(2, java.util.concurrent.TimeUnit.MINUTES);
      assertThat(report.problems()).isEmpty();
      assertThat(report.tables()).hasSize(5).allSatisfy(t -> assertThat(t.matches()).isTrue());
    }
  }
}

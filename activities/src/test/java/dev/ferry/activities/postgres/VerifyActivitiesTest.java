package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Progress;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.TestCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Row-count verification between the real clusters. */
class VerifyActivitiesTest extends ShopDatabaseTest {
  @BeforeEach
  void restoreTheShop() {
    harness.restore(harness.dump());
  }

  @Test
  void identicalDatabases_matchTableByTable() {
    VerificationReport report = harness.verify(shop);

    assertThat(report.mismatches()).isZero();
    assertThat(report.tables())
        .containsExactly(
            new TableComparison("billing.invoices", 16000, 16000, true),
            new TableComparison("public.customers", 5000, 5000, true),
            new TableComparison("public.order_items", 60000, 60000, true),
            new TableComparison("public.orders", 20000, 20000, true),
            new TableComparison("public.products", 500, 500, true));
  }

  @Test
  void namesAMissingRowAnExtraRowAndAMissingTable() throws Exception {
    TestCluster.TARGET.execute(
        shop.target,
        "DELETE FROM order_items WHERE order_id = 42 AND line_no = 1",
        "INSERT INTO customers (email, full_name, country, created_at) VALUES ('x@example.com', 'X', 'US', now())",
        "DROP TABLE billing.invoices CASCADE");

    VerificationReport report = harness.verify(shop);

    assertThat(report.mismatches()).isEqualTo(3);
    assertThat(report.tables())
        .filteredOn(t -> !t.matches())
        .containsExactly(
            new TableComparison("billing.invoices", 16000, -1, false),
            new TableComparison("public.customers", 5000, 5001, false),
            new TableComparison("public.order_items", 60000, 59999, false));
  }

  @Test
  void aTableOnlyOnTheTarget_isNamedToo() throws Exception {
    TestCluster.TARGET.execute(shop.target, "CREATE TABLE public.stray (id int)");

    VerificationReport report = harness.verify(shop);

    assertThat(report.tables()).contains(new TableComparison("public.stray", -1, 0, false));
  }

  @Test
  void heartbeatsEachTableAndResumesAfterTheTablesItHadCompared() {
    List<Progress> beats = new ArrayList<>();
    harness.env.setActivityHeartbeatListener(Progress.class, beats::add);
    // As if an earlier attempt had compared billing.invoices and then died. The recorded
    // figures are deliberately not the real ones: a resumed run must keep them, not recount.
    TableComparison earlier = new TableComparison("billing.invoices", 7, 7, true);
    harness.env.setHeartbeatDetails(new Progress(1, 5, 0, "public.customers", List.of(earlier)));

    VerificationReport report = harness.verify(shop);

    assertThat(report.tables()).hasSize(5).contains(earlier);
    // The SDK throttles heartbeats, so only the first one is certain to reach the listener.
    assertThat(beats).first().satisfies(p -> {
      assertThat(p.tablesDone()).isEqualTo(1);
      assertThat(p.tablesTotal()).isEqualTo(5);
      assertThat(p.current()).isEqualTo("public.customers");
      assertThat(p.compared()).containsExactly(earlier);
    });
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activity.SequenceActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Copying sequence values from the real source cluster to the target. */
class SequenceActivitiesTest extends ShopDatabaseTest {
  @BeforeEach
  void restoreTheShop() {
    harness.restore(harness.dump());
  }

  @Test
  void sourceThatMovedOn_setsTheTargetToItsValues_andASecondRunChangesNothing() throws Exception {
    TestCluster.SOURCE.execute(
        shop.source,
        "SELECT nextval('billing.invoice_number_seq') FROM generate_series(1, 5)",
        "SELECT setval('public.orders_id_seq', 9000000)");

    SequenceSync first = sequences().syncSequences(shop.references());

    assertThat(first.set()).isEqualTo(2);
    assertThat(first.aheadOnTarget()).isEmpty();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT nextval('public.orders_id_seq')")).isEqualTo(9000001);
    TestCluster.TARGET.execute(shop.target, "SELECT setval('public.orders_id_seq', 9000000)");
    assertThat(harness.verify(shop).sequences()).allSatisfy(s -> assertThat(s.matches()).isTrue());

    SequenceSync again = sequences().syncSequences(shop.references());
    assertThat(again.set()).isZero();
    assertThat(again.alreadyCurrent()).isEqualTo(first.set() + first.alreadyCurrent());
  }

  @Test
  void targetAheadOfTheSource_isLeftAndReported_neverMovedBack() throws Exception {
    TestCluster.TARGET.execute(shop.target, "SELECT setval('public.customers_id_seq', 12345678)");

    SequenceSync sync = sequences().syncSequences(shop.references());

    assertThat(sync.aheadOnTarget()).singleElement().asString().startsWith("public.customers_id_seq (source next ");
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT last_value FROM public.customers_id_seq")).isEqualTo(12345678);
  }

  @Test
  void sequenceMissingOnTheTarget_isFinalAndNamed() throws Exception {
    TestCluster.TARGET.execute(shop.target, "ALTER TABLE billing.invoices ALTER number DROP DEFAULT", "DROP SEQUENCE billing.invoice_number_seq");

    assertThatThrownBy(() -> sequences().syncSequences(shop.references()))
        .rootCause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
          assertThat(f.getType()).isEqualTo(Errors.SEQUENCE_MISSING);
          assertThat(f.getOriginalMessage()).contains("billing.invoice_number_seq");
        });
  }

  private SequenceActivities sequences() {
    return harness.env.newActivityStub(SequenceActivities.class);
  }
}

package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.FreezeActivitiesImpl;
import dev.ferry.activities.postgres.WriteFence;
import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.FreezeActivities;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single-phase copy streams from a frozen source, which carries the freeze's write fence (a
 * trigger on every table, an event trigger, the {@code ferry_fence} schema): the target gets
 * the app's schema and rows, none of the fence.
 */
class StreamCopyFencedSourceTest {
  @TempDir Path workDir;
  MigrationDatabases shop;
  CopyHarness copy;
  TestActivityEnvironment freezer;

  @AfterEach
  void tearDown() throws Exception {
    if (freezer != null) {
      freezer.newActivityStub(FreezeActivities.class).unfreezeSource(MigrationDatabases.SOURCE_REF);
      freezer.close();
    }
    if (copy != null) {
      copy.close();
    }
    if (shop != null) {
      shop.close();
    }
  }

  @Test
  void aFencedSource_copiesWithoutItsFence() throws Exception {
    shop = MigrationDatabases.shop();
    copy = new CopyHarness(shop, workDir, CopyHarness.SMALL_CHUNKS, CopyRequest.FROZEN, Map.of());
    freezer = TestActivityEnvironment.newInstance();
    freezer.registerActivitiesImplementations(new FreezeActivitiesImpl(copy.databases));
    assertThat(freezer.newActivityStub(FreezeActivities.class).freezeSource(MigrationDatabases.SOURCE_REF).fence())
        .contains("write fence on");
    assertThat(TestCluster.SOURCE.queryLong(shop.source, "SELECT count(*) FROM pg_trigger WHERE tgname = '" + WriteFence.TRIGGER + "'"))
        .as("the premise: the frozen source is fenced")
        .isPositive();

    copy.copyAll(2);
    CopyActivities control = copy.worker();
    VerificationReport report = control.verifyCopy(copy.request(1));

    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_trigger WHERE tgname = '" + WriteFence.TRIGGER + "'"))
        .isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_event_trigger")).isZero();
    assertThat(TestCluster.TARGET.queryLong(shop.target, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + WriteFence.SCHEMA + "'"))
        .isZero();
    control.endCopy(copy.request(1));
  }
}

package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tricky fixture (partitioned tables, generated columns, enums, domains, a keyless table with
 * duplicate rows, text and composite keys, quoted names, a large object, a million-row table)
 * through the streaming copy between the real clusters, big tables split into key ranges: the
 * copy's own report and the independent chunked verification both find it exact.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamCopyTest {
  @TempDir static Path workDir;
  static MigrationDatabases tricky;
  static CopyHarness copy;
  static CopyResult result;

  @BeforeAll
  static void copyTheFixture() throws Exception {
    tricky = MigrationDatabases.tricky();
    copy = new CopyHarness(tricky, workDir, CopyHarness.SMALL_CHUNKS, CopyRequest.FROZEN, Map.of());
    result = copy.copyAll(2);
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    copy.close();
    tricky.close();
  }

  @Test
  @Order(1)
  void trickyFixture_copiesExactly_bothByItsOwnChecksAndByTheVerification() {
    CopyActivities control = copy.worker();
    VerificationReport report = control.verifyCopy(copy.request(1));
    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(report.matchedUnlisted().tables()).isEqualTo(result.tables());
    assertThat(report.summary()).contains("read back from the target");

    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new VerifyActivitiesImpl(copy.databases));
      VerificationReport independent =
          env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(tricky.references(), 2));
      assertThat(independent.problems()).isEmpty();
      assertThat(independent.tables()).hasSize(result.tables() + 1); // and the large objects
    } finally {
      env.close();
    }
  }

  @Test
  @Order(2)
  void bigTables_areSplitIntoKeyRanges_keylessOnesCopiedWhole() throws Exception {
    assertThat(copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'page_views'")).isGreaterThan(1);
    assertThat(copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'audit_log' AND c.lower IS NULL AND c.upper IS NULL")).isEqualTo(1);
    assertThat(copy.bookLong("SELECT rows FROM $book.tables WHERE relname = 'audit_log'")).isEqualTo(3000);
    assertThat(result.chunks()).isGreaterThan(result.tables());
    assertThat(copy.bookLong("SELECT rows FROM $book.tables WHERE relname = 'page_views'")).isEqualTo(1_000_500);
  }
}

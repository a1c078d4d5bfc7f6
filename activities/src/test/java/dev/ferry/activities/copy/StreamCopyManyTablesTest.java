package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A schema-per-tenant source (tenants × tables, with sequences and foreign keys): every table is
 * copied and checked, and what the copy reports stays the same size however many tables there
 * are — at most {@link dev.ferry.model.database.VerificationReport#MAX_LISTED} named, those that
 * differ, the rest counted.
 */
class StreamCopyManyTablesTest {
  static final int TENANTS = 15;
  static final int TABLES_PER_TENANT = 10;

  @TempDir Path workDir;
  MigrationDatabases dbs;
  CopyHarness copy;

  @BeforeEach
  void createTenants() throws Exception {
    dbs = MigrationDatabases.empty("tenants");
    List<String> ddl = new ArrayList<>();
    for (int t = 0; t < TENANTS; t++) {
      String schema = "tenant_" + t;
      ddl.add("CREATE SCHEMA " + schema);
      for (int i = 0; i < TABLES_PER_TENANT; i++) {
        String parent = i == 0 ? "" : ", parent_id bigint REFERENCES " + schema + ".t0 (id)";
        ddl.add("CREATE TABLE " + schema + ".t" + i + " (id bigserial PRIMARY KEY, name text NOT NULL" + parent + ")");
        ddl.add("INSERT INTO " + schema + ".t" + i + " (name" + (i == 0 ? "" : ", parent_id") + ")"
            + " SELECT 'row ' || g" + (i == 0 ? "" : ", 1 + g % 5") + " FROM generate_series(1, 5) g");
      }
    }
    TestCluster.SOURCE.execute(dbs.source, ddl.toArray(String[]::new));
    copy = new CopyHarness(dbs, workDir, CopyTuning.DEFAULT, CopyRequest.FROZEN, Map.of());
  }

  @AfterEach
  void drop() throws Exception {
    copy.close();
    dbs.close();
  }

  @Test
  void everyTableIsCopiedAndChecked_andTheReportCountsWhatMatchedWithoutNamingIt() throws Exception {
    CopyResult result = copy.copyAll(2);
    VerificationReport report = copy.worker().verifyCopy(copy.request(1));

    int tables = TENANTS * TABLES_PER_TENANT;
    assertThat(result.tables()).isEqualTo(tables);
    assertThat(result.rows()).isEqualTo(tables * 5L);
    assertThat(report.mismatches()).isZero();
    // More than VerificationReport.MAX_LISTED of each, all matching: none named, all counted.
    assertThat(report.tables()).isEmpty();
    assertThat(report.sequences()).isEmpty();
    assertThat(report.totals().tables()).isEqualTo(tables);
    assertThat(report.totals().sequences()).isEqualTo(tables);
    assertThat(report.summary()).startsWith(tables + " tables (" + tables * 5L + " rows in " + tables + " checksummed chunks");
    // The foreign keys were added at the end, over the copied rows.
    assertThat(TestCluster.TARGET.queryLong(dbs.target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"))
        .isEqualTo(TENANTS * (TABLES_PER_TENANT - 1L));
  }
}

package dev.ferry.activities.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInterface;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The initial copy's sections against the real clusters, as the logical method uses them. */
class InitialCopyTest {
  @TempDir Path workDir;
  private MigrationDatabases dbs;
  private TestActivityEnvironment env;

  /** Runs the copy inside an activity, where it heartbeats. */
  @ActivityInterface
  public interface Sections {
    /** Dumps schema and data, restores pre-data and data, then post-data on its own. */
    void copyInTwoGoes(String key);
  }

  @BeforeEach
  void setUp() throws Exception {
    dbs = MigrationDatabases.shop();
    TestCluster.SOURCE.execute(
        dbs.source,
        "CREATE TABLE readings (id int, at date, value numeric, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
        "CREATE TABLE readings_2023 PARTITION OF readings FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "INSERT INTO readings SELECT i, date '2023-06-01' + (i % 400), i FROM generate_series(1, 1000) i");
    Databases databases = dbs.databases(Map.of());
    InitialCopy copy = new InitialCopy(databases, PgTools.locate(System.getenv()), workDir);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        (Sections)
            key -> {
              SyncSession session =
                  new SyncSession(
                      new SyncRequest(key, dbs.references(), SyncSpec.LOGICAL, 2, SyncSpec.PER_RUN_ROLE),
                      databases.resolve(Databases.SOURCE, MigrationDatabases.SOURCE_REF),
                      databases.resolve(Databases.TARGET, MigrationDatabases.TARGET_REF),
                      Activity.getExecutionContext().getInfo().getWorkflowId());
              Path dump = copy.dump(session, false, null);
              copy.restore(session, dump, InitialCopy.PRE_DATA, InitialCopy.DATA);
              copy.restore(session, dump, InitialCopy.POST_DATA);
              copy.discard(dump);
            });
  }

  @AfterEach
  void tearDown() throws Exception {
    env.close();
    dbs.close();
  }

  @Test
  void postDataRestoredAfterTheData_keepsThePartitionsRows_andAddsTheirKeys() throws Exception {
    env.newActivityStub(Sections.class).copyInTwoGoes(UUID.randomUUID().toString());

    assertThat(TestCluster.TARGET.queryLong(dbs.target, "SELECT count(*) FROM readings")).isEqualTo(1000);
    assertThat(TestCluster.TARGET.queryLong(
            dbs.target, "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text LIKE 'readings%'"))
        .as("primary keys of the parent and both partitions").isEqualTo(3);
    assertThat(TestCluster.TARGET.queryLong(dbs.target, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ferry_restore_claim'"))
        .as("the claim is released after post-data").isZero();
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.testing.postgres.MigrationDatabases;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every PostgreSQL activity test starts from: the shop loaded into a source database once
 * per class, an empty target before each test, and the activities wired as a worker wires them.
 */
abstract class ShopDatabaseTest {
  static MigrationDatabases shop;

  @TempDir Path workDir;
  Harness harness;

  @BeforeAll
  static void createDatabases() throws Exception {
    shop = MigrationDatabases.shop();
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    shop.close();
  }

  @BeforeEach
  void emptyTargetAndActivities() throws Exception {
    shop.resetTarget();
    harness = new Harness(shop, workDir, Map.of());
  }

  @AfterEach
  void closeActivities() {
    harness.close();
  }
}

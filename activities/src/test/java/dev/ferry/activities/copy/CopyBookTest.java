package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bookkeeping's snapshot publication. The plan and every copier wait for an epoch's snapshot
 * id and then read its visibility: they must never find one without the other (a CI run failed in
 * {@code PlanCopy} with "No value present" when the two were written by separate statements).
 */
class CopyBookTest {
  private static final String SCHEMA = "ferry_copy_booktest";
  String database;

  @BeforeEach
  void setUp() throws SQLException {
    database = TestCluster.uniqueDatabaseName("book");
    TestCluster.TARGET.createDatabase(database);
  }

  @AfterEach
  void tearDown() throws SQLException {
    TestCluster.TARGET.dropDatabase(database);
  }

  @Test
  void aSnapshot_isPublishedWithItsVisibility() throws SQLException {
    try (Connection c = TestCluster.TARGET.connect(database)) {
      CopyBook.create(c, SCHEMA, "run-1");
      CopyBook.publishSnapshot(c, SCHEMA, 2, "00000003-0000001B-1", "750:752:750");

      assertThat(CopyBook.state(c, SCHEMA, CopyBook.snapshotKey(2))).contains("00000003-0000001B-1");
      assertThat(CopyBook.state(c, SCHEMA, CopyBook.visibilityKey(2))).contains("750:752:750");
    }
  }

  @Test
  void aSnapshotWhoseVisibilityCannotBeWritten_isNotPublishedAtAll() throws SQLException {
    try (Connection c = TestCluster.TARGET.connect(database)) {
      CopyBook.create(c, SCHEMA, "run-1");
      // Whatever order the two rows are written in, the visibility's write fails here.
      TestCluster.TARGET.execute(
          database,
          "CREATE FUNCTION " + SCHEMA + ".refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
              + " BEGIN IF NEW.k LIKE '%.visibility' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
          "CREATE TRIGGER refuse BEFORE INSERT ON " + SCHEMA + ".state FOR EACH ROW EXECUTE FUNCTION " + SCHEMA
              + ".refuse()");

      assertThatThrownBy(() -> CopyBook.publishSnapshot(c, SCHEMA, 1, "00000003-0000001B-1", "750:752:750"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("refused");

      assertThat(CopyBook.state(c, SCHEMA, CopyBook.snapshotKey(1)))
          .as("an id without its visibility sends the plan to a missing value")
          .isEmpty();
    }
  }
}

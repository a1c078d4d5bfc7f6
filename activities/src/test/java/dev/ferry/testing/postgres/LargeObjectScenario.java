package dev.ferry.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Large objects an app creates, changes and removes around a sync: many that never change (which
 * the drain must not copy again), one small and one big (over a megabyte, copied in pieces) that
 * change during the sync, one removed, and new ones, one of them big.
 */
public final class LargeObjectScenario {
  private final String source;
  public final List<Long> unchanged = new ArrayList<>();
  public long changed;
  public long removed;
  public long big;
  public long created;
  public long createdBig;

  private LargeObjectScenario(String source) {
    this.source = source;
  }

  /** Before the sync starts: {@code unchanged} small objects, and the ones the sync will see change. */
  public static LargeObjectScenario before(String source, int unchanged) throws SQLException {
    LargeObjectScenario s = new LargeObjectScenario(source);
    try (Connection c = TestCluster.SOURCE.connect(source)) {
      for (int i = 0; i < unchanged; i++) {
        s.unchanged.add(create(c, "convert_to(repeat('unchanged " + i + " ', 50), 'UTF8')"));
      }
      s.changed = create(c, "convert_to('will change', 'UTF8')");
      s.removed = create(c, "convert_to('will be removed', 'UTF8')");
      s.big = create(c, bigContent("big"));
    }
    return s;
  }

  /** While the sync runs: one new small and one new big object, one changed, the big one changed mid-way, one removed. */
  public void duringSync() throws SQLException {
    try (Connection c = TestCluster.SOURCE.connect(source);
        Statement st = c.createStatement()) {
      created = create(c, "convert_to('created during the sync', 'UTF8')");
      createdBig = create(c, bigContent("created big"));
      st.execute("SELECT lo_put(" + changed + ", 5, convert_to('CHANGED and longer than before', 'UTF8'))");
      st.execute("SELECT lo_put(" + big + ", 1500000, convert_to('a change past the first megabyte', 'UTF8'))");
      st.execute("SELECT lo_unlink(" + removed + ")");
      // Created and removed again: never on the target.
      st.execute("SELECT lo_unlink(" + create(c, "convert_to('fleeting', 'UTF8')") + ")");
    }
  }

  /** Each large object on the target by oid, with the transaction that last wrote its metadata row. */
  public static Map<Long, String> writtenBy(String target) throws SQLException {
    Map<Long, String> xmins = new TreeMap<>();
    try (Connection c = TestCluster.TARGET.connect(target);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT oid::bigint, xmin::text FROM pg_largeobject_metadata")) {
      while (rs.next()) {
        xmins.put(rs.getLong(1), rs.getString(2));
      }
    }
    return xmins;
  }

  /**
   * After the drain and the verification: the same large objects on both sides, the verification
   * compared all {@code expected} of them and found no difference, and the drain rewrote on the
   * target only what changed (the unchanged keep the transaction that wrote them before it).
   *
   * @param beforeTheDrain {@link #writtenBy} the target before the drain
   */
  public void assertCarried(
      String target, dev.ferry.model.database.VerificationReport report, long expected, Map<Long, String> beforeTheDrain)
      throws SQLException {
    assertSameOn(target);
    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    assertThat(report.tables()).anySatisfy(t -> {
      assertThat(t.table()).isEqualTo("(large objects)");
      assertThat(t.sourceRows()).isEqualTo(expected);
    });
    Map<Long, String> afterTheDrain = writtenBy(target);
    assertThat(unchanged).allSatisfy(oid -> assertThat(afterTheDrain.get(oid)).isEqualTo(beforeTheDrain.get(oid)));
    assertThat(afterTheDrain.get(changed)).isNotEqualTo(beforeTheDrain.get(changed));
    assertThat(afterTheDrain.get(big)).isNotEqualTo(beforeTheDrain.get(big));
    assertThat(afterTheDrain).containsKeys(created, createdBig).doesNotContainKey(removed);
  }

  /** The same oids on both sides, each with the same content. */
  public void assertSameOn(String target) throws SQLException {
    Map<Long, String> onSource = contents(TestCluster.SOURCE, source);
    Map<Long, String> onTarget = contents(TestCluster.TARGET, target);
    Map<Long, String> differing = new TreeMap<>();
    for (long oid : onSource.keySet()) {
      if (!onSource.get(oid).equals(onTarget.get(oid))) {
        differing.put(oid, "source " + onSource.get(oid) + ", target " + onTarget.get(oid));
      }
    }
    for (long oid : onTarget.keySet()) {
      if (!onSource.containsKey(oid)) {
        differing.put(oid, "only on the target");
      }
    }
    assertThat(differing).as("large objects (oid → md5) that differ, of " + onSource.size() + " on the source").isEmpty();
  }

  private static Map<Long, String> contents(TestCluster cluster, String database) throws SQLException {
    Map<Long, String> md5s = new TreeMap<>();
    try (Connection c = cluster.connect(database);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT oid::bigint, md5(lo_get(oid)) FROM pg_largeobject_metadata")) {
      while (rs.next()) {
        md5s.put(rs.getLong(1), rs.getString(2));
      }
    }
    return md5s;
  }

  private static String bigContent(String label) {
    // About 2.6 MB: three pieces of a megabyte.
    return "convert_to(repeat('" + label + " ', " + (2_600_000 / (label.length() + 1)) + "), 'UTF8')";
  }

  private static long create(Connection c, String content) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT lo_from_bytea(0, " + content + ")::bigint")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

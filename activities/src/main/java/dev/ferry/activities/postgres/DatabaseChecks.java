package dev.ferry.activities.postgres;

import dev.ferry.model.database.SchemaDifference;
import dev.ferry.model.database.SequenceComparison;
import dev.ferry.model.database.TableComparison;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The verification's comparisons of everything but table rows, and its chunk checksums for one
 * table, for the streaming copy ({@code dev.ferry.activities.copy}), which checks rows its own way
 * as they are copied. Both connections should be prepared with {@link #prepareSession}.
 */
public final class DatabaseChecks {
  private DatabaseChecks() {}

  /** Row text the same on both sides whatever the servers' defaults (see {@link ChunkChecksum}). */
  public static void prepareSession(Connection c) throws SQLException {
    ChunkChecksum.prepareSession(c);
  }

  /** Tables, columns, indexes and constraints that differ. */
  public static List<SchemaDifference> schema(Connection source, Connection target) throws SQLException {
    return SchemaComparison.differences(SchemaComparison.read(source), SchemaComparison.read(target));
  }

  /** Every sequence of either side: whether the target is not behind. */
  public static List<SequenceComparison> sequences(Connection source, Connection target) throws SQLException {
    return VerifyActivitiesImpl.compareSequences(Sequences.read(source), Sequences.read(target));
  }

  /** The large objects compared as one checksum, or {@code null} when neither side has any. */
  public static TableComparison largeObjects(Connection source, Connection target) throws SQLException {
    return VerifyActivitiesImpl.compareLargeObjects(ChunkChecksum.largeObjects(source), ChunkChecksum.largeObjects(target));
  }

  /**
   * Sets every target sequence to the source's value (as {@code setval} does); returns how many
   * it set. A sequence the target lacks is left to the verification to name. For a copy's end,
   * where the target's sequences are the schema restore's, untouched by any app: unlike {@link
   * SequenceCopy} (a sync's end, where the target may have been used), it moves one back too (a
   * source sequence restarted below its {@code START} value is behind the fresh target's).
   */
  public static int copySequences(Connection source, Connection target) throws SQLException {
    Map<String, Sequences.State> from = Sequences.read(source);
    Map<String, Sequences.State> to = Sequences.read(target);
    List<Sequences.State[]> toSet = new ArrayList<>();
    for (Sequences.State s : from.values()) {
      Sequences.State t = to.get(s.display());
      if (t != null && (t.lastValue() != s.lastValue() || t.isCalled() != s.isCalled())) {
        toSet.add(new Sequences.State[] {t, s});
      }
    }
    // A few hundred per round trip, as the cutover's sequence sync does: 10,000 tenant tables
    // bring 10,000 sequences.
    Sequences.setAll(target, toSet);
    return toSet.size();
  }

  /**
   * Where a table differs, in the verification's primary-key chunks: up to {@code max} ranges
   * such as {@code id > 50000 and id <= 100000}, each with both sides' row counts; {@code whole
   * table} for a table without a primary key. Empty when no chunk differs.
   */
  public static List<String> differingRanges(Connection source, Connection target, Catalog.Table table, int max)
      throws SQLException {
    List<Catalog.KeyColumn> key = Catalog.primaryKeys(source).getOrDefault(table, List.of());
    List<String> found = new ArrayList<>();
    List<String> lower = null;
    while (found.size() < max) {
      List<String> upper = key.isEmpty() ? null : ChunkChecksum.nextUpper(source, table, key, lower);
      ChunkChecksum.Sum s = ChunkChecksum.sum(source, table, key, lower, upper);
      ChunkChecksum.Sum t = ChunkChecksum.sum(target, table, key, lower, upper);
      if (s.rows() != t.rows() || s.hash().compareTo(t.hash()) != 0) {
        found.add(ChunkChecksum.describe(key, lower, upper) + " (source " + s.rows() + " rows, target " + t.rows() + ")");
      }
      if (upper == null) {
        break;
      }
      lower = upper;
    }
    return found;
  }
}

package dev.ferry.activities.postgres;

import dev.ferry.model.Progress;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyCheckpoint;
import dev.ferry.model.database.VerifyCheckpoint.TableCursor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A verification's tables compared so far, kept so that what it heartbeats and returns stays the
 * same size whatever the number of tables: a bitmap of the tables compared to the end over the
 * list of every table in name order, counts of what they found, the tables the report will name
 * ({@link VerificationReport#bounded}: every table when there are few, else the first that
 * differ), and the tables under way. Shared by the comparing threads.
 *
 * <p>A finished table is first <em>pending</em>: the caller records its comparison where the
 * full detail is kept ({@link VerificationDetails}) and only then {@link #count}s it, so that a
 * checkpoint never claims a table whose detail was not recorded.
 */
final class VerificationTally {
  private static final Logger log = LoggerFactory.getLogger(VerificationTally.class);

  private final List<String> tables;
  private final Map<String, Integer> index = new HashMap<>();
  private final String tableList;
  /** How many tables the report will count in all (the large objects too): decides whether it names every one. */
  private final int reportTotal;
  private final BitSet compared = new BitSet();
  private final TreeMap<String, TableComparison> named = new TreeMap<>();
  private final TreeMap<String, TableCursor> underway = new TreeMap<>();
  private final List<TableComparison> pending = new ArrayList<>();
  private int counted;
  private int differing;
  private int oneSided;
  private long rows;
  private long chunks;

  /**
   * @param tables every table, in name order (display names)
   * @param reportTotal the tables the report will count (these, plus the large objects when
   *     there are any)
   * @param resumed the last heartbeat's checkpoint, or null
   */
  VerificationTally(List<String> tables, int reportTotal, VerifyCheckpoint resumed) {
    this.tables = List.copyOf(tables);
    for (int i = 0; i < tables.size(); i++) {
      index.put(tables.get(i), i);
    }
    this.tableList = fingerprint(tables);
    this.reportTotal = reportTotal;
    if (resumed != null) {
      resume(resumed);
    }
  }

  private void resume(VerifyCheckpoint checkpoint) {
    List<TableComparison> done = checkpoint.done() == null ? List.of() : checkpoint.done();
    if (checkpoint.compared() == null) {
      // A checkpoint made before the bitmap lists every finished table.
      done.forEach(this::countOne);
    } else if (!tableList.equals(checkpoint.tableList())) {
      log.warn("the tables changed since the last attempt ({} then, {} now): comparing every table again",
          checkpoint.tableList(), tableList);
      return;
    } else {
      compared.or(BitSet.valueOf(Base64.getDecoder().decode(checkpoint.compared())));
      VerificationReport.Totals t = checkpoint.totals();
      counted = t.tables();
      differing = t.tablesDiffering();
      oneSided = t.tablesOneSided();
      rows = t.rows();
      chunks = t.chunks();
      done.forEach(d -> named.put(d.table(), d));
    }
    if (checkpoint.underway() != null) {
      checkpoint.underway().forEach(u -> underway.put(u.table(), u));
    }
  }

  /** Whether a table was compared to the end by an earlier attempt (or this one). */
  synchronized boolean isDone(String table) {
    Integer i = index.get(table);
    return i != null && compared.get(i);
  }

  synchronized TableCursor cursor(String table) {
    return underway.getOrDefault(table, new TableCursor(table, null, 0, 0, 0, 0, List.of()));
  }

  synchronized void advance(TableCursor cursor) {
    underway.put(cursor.table(), cursor);
  }

  /** A table compared to the end; pending until {@link #count}ed. */
  synchronized void finish(TableComparison table) {
    underway.remove(table.table());
    pending.add(table);
  }

  /** The finished tables not yet counted, for the caller to record before it counts them. */
  synchronized List<TableComparison> takePending() {
    List<TableComparison> taken = List.copyOf(pending);
    pending.clear();
    return taken;
  }

  /** Counts recorded tables: from now on the checkpoint says they are done. */
  synchronized void count(List<TableComparison> recorded) {
    recorded.forEach(this::countOne);
  }

  private void countOne(TableComparison t) {
    Integer i = index.get(t.table());
    if (i != null) {
      if (compared.get(i)) {
        return;
      }
      compared.set(i);
    }
    counted++;
    if (!t.matches()) {
      differing++;
    }
    if (VerificationReport.oneSided(t)) {
      oneSided++;
    }
    if (t.sourceRows() > 0) {
      rows += t.sourceRows();
    }
    chunks += t.chunks();
    name(t);
  }

  /** Keeps {@code t} among the named tables if the report will name it. */
  private void name(TableComparison t) {
    if (reportTotal <= VerificationReport.MAX_LISTED) {
      named.put(t.table(), t);
    } else if (!t.matches()) {
      named.put(t.table(), t);
      if (named.size() > VerificationReport.MAX_LISTED) {
        named.pollLastEntry();
      }
    }
  }

  /** Adds a comparison made outside the table list (the large objects), already recorded. */
  synchronized void countExtra(TableComparison t) {
    countOne(t);
  }

  synchronized int tablesDone() {
    return compared.cardinality();
  }

  /** What to heartbeat: tables done of all, the tables under way, and the checkpoint. */
  synchronized Progress progress() {
    String current = underway.isEmpty() ? null : String.join(", ", underway.keySet());
    return new Progress(tablesDone(), tables.size(), 0, current, checkpoint());
  }

  synchronized VerifyCheckpoint checkpoint() {
    return new VerifyCheckpoint(
        List.copyOf(named.values()),
        List.copyOf(underway.values()),
        tableList,
        Base64.getEncoder().encodeToString(compared.toByteArray()),
        totals(0, 0, 0, 0, null));
  }

  /** The tables' counts, with the sequences' and the schema's. */
  synchronized VerificationReport.Totals totals(
      int sequences, int sequencesDiffering, int sequencesOneSided, int schemaDifferences, String detail) {
    return new VerificationReport.Totals(
        counted, differing, oneSided, rows, chunks, sequences, sequencesDiffering, sequencesOneSided, schemaDifferences, detail);
  }

  /** The tables the report names, in name order. */
  synchronized List<TableComparison> named() {
    return List.copyOf(named.values());
  }

  /** {@code <count>:<first 16 hex digits of the SHA-256 of the names, one per line>}. */
  static String fingerprint(List<String> tables) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String t : tables) {
        sha.update(t.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      }
      return tables.size() + ":" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

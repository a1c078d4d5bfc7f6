package dev.ferry.model.database;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * What a verification found. It travels through Temporal (the activity's result, the run's
 * status and result), so it is bounded whatever the number of tables: each list names every
 * object of its kind when there are at most {@link #MAX_LISTED}, else only those that differ (at
 * most {@link #MAX_LISTED}); {@link #totals} counts everything, and says where the comparison of
 * every object is kept.
 *
 * @param tables the tables (and the large objects as {@code (large objects)}) as above, in name
 *     order
 * @param sequences the sequences as above, in name order
 * @param schema what differs in tables, columns, indexes and constraints, at most {@link
 *     #MAX_LISTED}
 * @param mismatches tables that differ + sequences behind + schema differences, all of them: 0
 *     means the target holds exactly the source's data
 * @param totals what was compared in all; {@code null} in reports made before the lists were
 *     bounded, which list every object
 */
public record VerificationReport(
    List<TableComparison> tables,
    List<SequenceComparison> sequences,
    List<SchemaDifference> schema,
    int mismatches,
    Totals totals) {

  /** Objects of one kind a report names at most. */
  public static final int MAX_LISTED = 50;

  /**
   * Everything a verification compared, counted.
   *
   * @param tables tables compared (the large objects count as one)
   * @param tablesDiffering tables that differ, those on one side only included
   * @param tablesOneSided tables missing on either side
   * @param rows rows of the tables on the source
   * @param chunks checksummed chunks
   * @param sequencesDiffering sequences behind on the target or on one side only
   * @param detail where the comparison of every table and sequence is kept (for people), or
   *     {@code null}
   */
  public record Totals(
      int tables,
      int tablesDiffering,
      int tablesOneSided,
      long rows,
      long chunks,
      int sequences,
      int sequencesDiffering,
      int sequencesOneSided,
      int schemaDifferences,
      String detail) {}

  /** A report of everything compared, bounded as the class says. */
  public static VerificationReport of(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema) {
    return of(tables, sequences, schema, null);
  }

  /** {@link #of(List, List, List)}, saying where the full comparison is kept. */
  public static VerificationReport of(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema, String detail) {
    Totals totals =
        new Totals(
            tables.size(),
            (int) tables.stream().filter(t -> !t.matches()).count(),
            (int) tables.stream().filter(VerificationReport::oneSided).count(),
            tables.stream().mapToLong(TableComparison::sourceRows).filter(r -> r > 0).sum(),
            tables.stream().mapToLong(TableComparison::chunks).sum(),
            sequences.size(),
            (int) sequences.stream().filter(s -> !s.matches()).count(),
            (int) sequences.stream().filter(VerificationReport::oneSided).count(),
            schema.size(),
            detail);
    return of(totals, bounded(tables, TableComparison::matches, TableComparison::table),
        bounded(sequences, SequenceComparison::matches, SequenceComparison::sequence),
        schema.subList(0, Math.min(schema.size(), MAX_LISTED)));
  }

  /** A report from its totals and the objects it names (already bounded by the caller). */
  public static VerificationReport of(
      Totals totals, List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema) {
    return new VerificationReport(
        List.copyOf(tables),
        List.copyOf(sequences),
        List.copyOf(schema),
        totals.tablesDiffering() + totals.sequencesDiffering() + totals.schemaDifferences(),
        totals);
  }

  /** Every object when there are at most {@link #MAX_LISTED}, else the first that differ; in name order. */
  public static <T> List<T> bounded(List<T> all, Predicate<T> matches, java.util.function.Function<T, String> name) {
    List<T> chosen =
        all.size() <= MAX_LISTED ? all : all.stream().filter(matches.negate()).sorted(Comparator.comparing(name)).limit(MAX_LISTED).toList();
    return chosen.stream().sorted(Comparator.comparing(name)).toList();
  }

  public static boolean oneSided(TableComparison t) {
    return !t.matches() && (t.sourceRows() < 0 || t.targetRows() < 0);
  }

  public static boolean oneSided(SequenceComparison s) {
    return !s.matches() && (s.sourceValue() == null || s.targetValue() == null);
  }

  // Counts, from the totals, or from the lists of a report made before there were totals (they
  // list everything). No get/is prefix: they are not part of the payload.

  public int tableCount() {
    return totals != null ? totals.tables() : tables.size();
  }

  public int tablesDiffering() {
    return totals != null ? totals.tablesDiffering() : (int) tables.stream().filter(t -> !t.matches()).count();
  }

  public int tablesOneSided() {
    return totals != null ? totals.tablesOneSided() : (int) tables.stream().filter(VerificationReport::oneSided).count();
  }

  /** Rows of the tables on the source. */
  public long rowsOnSource() {
    return totals != null ? totals.rows() : tables.stream().mapToLong(TableComparison::sourceRows).filter(r -> r > 0).sum();
  }

  public int sequenceCount() {
    return totals != null ? totals.sequences() : sequences.size();
  }

  public int sequencesDiffering() {
    return totals != null ? totals.sequencesDiffering() : (int) sequences.stream().filter(s -> !s.matches()).count();
  }

  public int sequencesOneSided() {
    return totals != null ? totals.sequencesOneSided() : (int) sequences.stream().filter(VerificationReport::oneSided).count();
  }

  public int schemaDifferences() {
    return totals != null ? totals.schemaDifferences() : schema.size();
  }

  /**
   * Every mismatch this report names, one line each, naming the table and chunk, sequence or
   * schema object; then, when it names fewer than there are, how many more and where they are.
   */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    for (TableComparison t : tables) {
      if (t.matches()) {
        continue;
      }
      if (t.targetRows() < 0) {
        problems.add(t.table() + ": missing on target");
      } else if (t.sourceRows() < 0) {
        problems.add(t.table() + ": only on target");
      } else {
        problems.add(
            t.table() + ": " + t.differingChunks() + " of " + t.chunks() + " chunk(s) differ (source "
                + t.sourceRows() + " rows, target " + t.targetRows() + "): "
                + t.mismatchedChunks().stream()
                    .map(c -> c.range() + " [source " + c.sourceRows() + ", target " + c.targetRows() + " rows]")
                    .collect(Collectors.joining("; ")));
      }
    }
    for (SequenceComparison s : sequences) {
      if (!s.matches()) {
        problems.add(
            "sequence " + s.sequence() + (s.targetValue() == null ? ": missing on target"
                : s.sourceValue() == null ? ": only on target"
                : ": behind on target (source next " + s.sourceValue() + ", target next " + s.targetValue() + ")"));
      }
    }
    schema.forEach(d -> problems.add(d.describe()));
    if (totals != null && problems.size() < mismatches) {
      problems.add(
          "… and " + (mismatches - problems.size()) + " more mismatch(es)"
              + (totals.detail() == null ? "" : ": " + totals.detail()));
    }
    return problems;
  }

  /** One line for the run's status. */
  public String summary() {
    if (mismatches == 0) {
      if (totals == null) {
        // As reports made before totals read (their runs' gate evidence was built from it).
        long rows = tables.stream().mapToLong(TableComparison::sourceRows).sum();
        int chunks = tables.stream().mapToInt(TableComparison::chunks).sum();
        return tables.size() + " tables (" + rows + " rows in " + chunks + " checksummed chunks), "
            + sequences.size() + " sequences and the schema match";
      }
      return totals.tables() + " tables (" + totals.rows() + " rows in " + totals.chunks() + " checksummed chunks), "
          + totals.sequences() + " sequences and the schema match";
    }
    List<String> problems = problems();
    return mismatches + " mismatch(es): " + String.join(" | ", problems.subList(0, Math.min(10, problems.size())))
        + (problems.size() > 10 ? " | …" : "");
  }
}

package dev.ferry.model.database;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * @param tables every table of either side, in name order, and the large objects as {@code
 *     (large objects)}
 * @param sequences every sequence of either side
 * @param schema what differs in tables, columns, indexes and constraints
 * @param mismatches tables that differ + sequences behind + schema differences: 0 means the
 *     target holds exactly the source's data
 * @param matchedUnlisted what matched and is counted here instead of listed ({@code null}: every
 *     table and sequence compared is in the lists). The streaming copy checks each table as it
 *     lands and reports only the tables and sequences that differ, so that the report does not
 *     grow with a database of 10,000 tables.
 */
public record VerificationReport(
    List<TableComparison> tables,
    List<SequenceComparison> sequences,
    List<SchemaDifference> schema,
    int mismatches,
    Unlisted matchedUnlisted) {

  /**
   * Tables and sequences that matched and are not listed.
   *
   * @param tables tables whose every row matched
   * @param rows their rows
   * @param chunks the chunks their rows were compared in
   * @param sequences sequences the target is not behind on
   * @param how how the tables were compared, for people
   */
  public record Unlisted(int tables, long rows, int chunks, int sequences, String how) {}

  public VerificationReport(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema, int mismatches) {
    this(tables, sequences, schema, mismatches, null);
  }

  public static VerificationReport of(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema) {
    return of(tables, sequences, schema, null);
  }

  /** A report whose lists hold what differs, and {@code matched} counts the rest. */
  public static VerificationReport of(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema, Unlisted matched) {
    int mismatches =
        (int) (tables.stream().filter(t -> !t.matches()).count()
            + sequences.stream().filter(s -> !s.matches()).count()
            + schema.size());
    return new VerificationReport(List.copyOf(tables), List.copyOf(sequences), List.copyOf(schema), mismatches, matched);
  }

  /** Every mismatch, one line each, naming the table and chunk, sequence or schema object. */
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
    return problems;
  }

  /** One line for the run's status. */
  public String summary() {
    if (mismatches == 0) {
      long rows = tables.stream().mapToLong(TableComparison::sourceRows).sum();
      int chunks = tables.stream().mapToInt(TableComparison::chunks).sum();
      if (matchedUnlisted != null) {
        Unlisted u = matchedUnlisted;
        return (tables.size() + u.tables()) + " tables (" + (rows + u.rows()) + " rows in " + (chunks + u.chunks())
            + " chunks, " + u.how() + "), " + (sequences.size() + u.sequences()) + " sequences and the schema match";
      }
      return tables.size() + " tables (" + rows + " rows in " + chunks + " checksummed chunks), "
          + sequences.size() + " sequences and the schema match";
    }
    List<String> problems = problems();
    return mismatches + " mismatch(es): " + String.join(" | ", problems.subList(0, Math.min(10, problems.size())))
        + (problems.size() > 10 ? " | …" : "");
  }
}

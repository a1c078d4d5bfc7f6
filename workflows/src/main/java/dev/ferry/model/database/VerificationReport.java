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
 */
public record VerificationReport(
    List<TableComparison> tables,
    List<SequenceComparison> sequences,
    List<SchemaDifference> schema,
    int mismatches) {

  public static VerificationReport of(
      List<TableComparison> tables, List<SequenceComparison> sequences, List<SchemaDifference> schema) {
    int mismatches =
        (int) (tables.stream().filter(t -> !t.matches()).count()
            + sequences.stream().filter(s -> !s.matches()).count()
            + schema.size());
    return new VerificationReport(List.copyOf(tables), List.copyOf(sequences), List.copyOf(schema), mismatches);
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
      return tables.size() + " tables (" + rows + " rows in " + chunks + " checksummed chunks), "
          + sequences.size() + " sequences and the schema match";
    }
    List<String> problems = problems();
    return mismatches + " mismatch(es): " + String.join(" | ", problems.subList(0, Math.min(10, problems.size())))
        + (problems.size() > 10 ? " | …" : "");
  }
}

package dev.ferry.model.database;

/**
 * Something in the schema that differs between the two sides.
 *
 * @param kind {@code table}, {@code column}, {@code index}, {@code constraint} or {@code
 *     extension}
 * @param object its schema-qualified name (for a column, {@code table.column})
 * @param source its definition on the source, or {@code null} when it is missing there
 * @param target its definition on the target, or {@code null} when it is missing there
 */
public record SchemaDifference(String kind, String object, String source, String target) {
  public String describe() {
    if (target == null) {
      return kind + " " + object + " missing on target";
    }
    if (source == null) {
      return kind + " " + object + " only on target";
    }
    return kind + " " + object + " differs: source " + source + ", target " + target;
  }
}

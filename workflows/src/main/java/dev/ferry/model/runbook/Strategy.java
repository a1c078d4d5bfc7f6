package dev.ferry.model.runbook;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** How the data moves: PRODUCT.md names both. */
public enum Strategy {
  /** Small database, downtime accepted: snapshot, restore, verify. */
  SINGLE_PHASE("single-phase", List.of(Gates.START, Gates.DECOMMISSION, Gates.ROLLBACK)),
  /** Large database, near-zero downtime: initial copy, continuous sync, cutover. */
  MULTI_PHASE("multi-phase", List.of(Gates.START, Gates.CUTOVER, Gates.DECOMMISSION, Gates.ROLLBACK));

  private final String label;
  private final List<String> gates;

  Strategy(String label, List<String> gates) {
    this.label = label;
    this.gates = gates;
  }

  /** The gates a run of this strategy may open, in order ({@code rollback} only on trouble). */
  public List<String> gates() {
    return gates;
  }

  @JsonValue
  public String label() {
    return label;
  }

  @JsonCreator
  public static Strategy fromLabel(String label) {
    return parse(label)
        .orElseThrow(() -> new IllegalArgumentException("unknown strategy: " + label));
  }

  static Optional<Strategy> parse(String label) {
    return Arrays.stream(values()).filter(s -> s.label.equals(label)).findFirst();
  }
}

package dev.ferry.model.heroku;

import java.util.List;

/** A Heroku app's process types and how many dynos each runs. */
public record Formation(String app, List<DynoQuantity> processes) {

  /** Every process type at zero dynos: what decommission asks for. */
  public List<DynoQuantity> scaledToZero() {
    return processes.stream().map(p -> new DynoQuantity(p.type(), 0, p.size())).toList();
  }

  /** Dynos in all. */
  public int dynos() {
    return processes.stream().mapToInt(DynoQuantity::quantity).sum();
  }
}

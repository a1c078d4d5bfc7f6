package dev.ferry.activities.sweep;

import java.util.ArrayList;
import java.util.List;

/**
 * What one sweep did: what it removed and what it left, each with where and why. Every entry is
 * also logged as it happens.
 */
public final class SweepReport {
  /** @param what e.g. {@code sync schema ferry_sync_1a2b3c4d5e6f}; @param where a database or a directory */
  public record Entry(String what, String where, String why) {
    @Override
    public String toString() {
      return what + " on " + where + ": " + why;
    }
  }

  private final List<Entry> removed = new ArrayList<>();
  private final List<Entry> left = new ArrayList<>();

  void removed(Entry e) {
    removed.add(e);
  }

  void left(Entry e) {
    left.add(e);
  }

  public List<Entry> removed() {
    return List.copyOf(removed);
  }

  /** What it saw and did not remove because it could not tell that its run ended (not what running runs own). */
  public List<Entry> left() {
    return List.copyOf(left);
  }

  @Override
  public String toString() {
    return removed.size() + " removed, " + left.size() + " left";
  }
}

package dev.ferry.model.schedule;

import java.util.List;

/**
 * What a schedule's workflow carries into its next run when it continues as new (to keep its
 * history short): whether it is paused and why, its counters, its latest fires.
 */
public record ScheduleMemory(boolean paused, String note, long started, long skipped, List<FireRecord> recent) {
  public static ScheduleMemory fresh() {
    return new ScheduleMemory(false, null, 0, 0, List.of());
  }
}

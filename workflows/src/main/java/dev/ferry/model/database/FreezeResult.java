package dev.ferry.model.database;

import java.util.List;

/**
 * @param sessionsEnded sessions that were connected to the source and were ended
 * @param sessionsLeft sessions Ferry could not end (another role's: {@code role@client}); the
 *     write fence refuses their writes, not their DDL where there is no event trigger
 * @param fence what the write fence refuses, for people ({@code null} in runs frozen before
 *     there was one)
 */
public record FreezeResult(int sessionsEnded, List<String> sessionsLeft, String fence) {
  /** A freeze without a fence, as runs recorded before it have it. */
  public FreezeResult(int sessionsEnded, List<String> sessionsLeft) {
    this(sessionsEnded, sessionsLeft, null);
  }
}

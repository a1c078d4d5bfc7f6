package dev.ferry.model.database;

import java.util.List;

/**
 * @param sessionsEnded sessions that were connected to the source and were ended
 * @param sessionsLeft sessions Ferry could not end (another role's: {@code role@client}), which
 *     can still write until they reconnect
 */
public record FreezeResult(int sessionsEnded, List<String> sessionsLeft) {}

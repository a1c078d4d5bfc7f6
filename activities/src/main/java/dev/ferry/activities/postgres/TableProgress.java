package dev.ferry.activities.postgres;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows the verbose output of pg_dump and pg_restore to tell how many tables' data are done.
 * In parallel mode both print {@code finished item N TABLE DATA name}; in serial mode only the
 * start of each table, so a table counts as done when the next one starts.
 */
final class TableProgress {
  private static final Pattern STARTED =
      Pattern.compile("(?:dumping contents of table|processing data for table) \"(.+)\"");
  private static final Pattern FINISHED = Pattern.compile("finished item \\d+ TABLE DATA (.+)");

  private int started;
  private int finished;
  private boolean parallel;
  private String current;

  synchronized void accept(String line) {
    Matcher m = STARTED.matcher(line);
    if (m.find()) {
      started++;
      current = m.group(1);
      return;
    }
    if (FINISHED.matcher(line).find()) {
      parallel = true;
      finished++;
    }
  }

  synchronized int done() {
    return parallel ? finished : Math.max(0, started - 1);
  }

  synchronized String current() {
    return current;
  }
}

package dev.ferry.activities.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows the verbose output of pg_dump and pg_restore to tell how many tables' data are done.
 * In parallel mode both print {@code finished item N TABLE DATA name}; in serial mode only the
 * start of each table, so a table counts as done when the next one starts.
 */
public final class TableProgress {
  private static final Pattern STARTED =
      Pattern.compile("(?:dumping contents of table|processing data for table) \"(.+)\"");
  private static final Pattern FINISHED = Pattern.compile("finished item (\\d+) TABLE DATA (.+)");

  private final Path dumpDirectory;
  private long bytes;
  private int started;
  private int finished;
  private boolean parallel;
  private String current;

  public TableProgress() {
    this(null);
  }

  /**
   * @param dumpDirectory for a restore: the dump it reads, whose data files' sizes count as the
   *     bytes restored as each table finishes
   */
  public TableProgress(Path dumpDirectory) {
    this.dumpDirectory = dumpDirectory;
  }

  public synchronized void accept(String line) {
    Matcher m = STARTED.matcher(line);
    if (m.find()) {
      started++;
      current = m.group(1);
      return;
    }
    Matcher f = FINISHED.matcher(line);
    if (f.find()) {
      parallel = true;
      finished++;
      bytes += dataFileSize(f.group(1));
    }
  }

  public synchronized int done() {
    return parallel ? finished : Math.max(0, started - 1);
  }

  /** Bytes of the dump's data files whose tables are done (restore only; 0 for a dump). */
  public synchronized long bytes() {
    return bytes;
  }

  private long dataFileSize(String dumpId) {
    if (dumpDirectory == null) {
      return 0;
    }
    for (String name : new String[] {dumpId + ".dat.gz", dumpId + ".dat", dumpId + ".dat.lz4", dumpId + ".dat.zst"}) {
      try {
        return Files.size(dumpDirectory.resolve(name));
      } catch (IOException missing) {
        // Another compression, or none.
      }
    }
    return 0;
  }

  public synchronized String current() {
    return current;
  }
}

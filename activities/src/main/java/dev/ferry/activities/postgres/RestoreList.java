package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The table of contents pg_restore is told to follow ({@code --use-list}): the dump's own, less
 * the extensions the target already has (and their comments), less whatever else the caller
 * leaves out. Restoring an extension the target has would drop the target's own copy ({@code
 * --clean}) or fail on it (seed 002's {@code extension "pg_stat_statements" already exists}, or
 * {@code must be owner of extension} for its comment). Everything else stays, so a real error
 * still stops the restore.
 */
public final class RestoreList {
  private static final Logger log = LoggerFactory.getLogger(RestoreList.class);
  /** A table-of-contents line of an extension or of its comment: {@code 3; 3079 16390 EXTENSION - citext}. */
  private static final Pattern EXTENSION_ENTRY =
      Pattern.compile("^\\d+; \\d+ \\d+ (?:EXTENSION - |COMMENT - EXTENSION )(\\S+)( |$)");

  /**
   * A table-of-contents line of one of Ferry's own publications: a logical sync's ({@code
   * ferry_pub_<tag>}) or its key capture's ({@code ferry_sync_<tag>_keys}), the tag being 12 hex
   * digits of the run's sync key; the publication, its comment, a table or schema in it. {@code
   * 3347; 6104 16400 PUBLICATION - ferry_pub_1e146f2247fa ferry}, {@code 3350; 6106 16401
   * PUBLICATION TABLE public ferry_pub_1e146f2247fa orders ferry}, {@code 3352; 6237 16402
   * PUBLICATION TABLES IN SCHEMA s2 ferry_sync_1e146f2247fa_keys s2 ferry}. They are the source's
   * replication plumbing for a run, in a dump only because the run made them before it (a
   * retried setup dumps the schema again); restored, the target would publish the app's tables
   * under Ferry's name, and nothing would remove them. An app's own publication whose name merely
   * starts with {@code ferry_} is the app's, and restored.
   */
  private static final Pattern FERRY_PUBLICATION_ENTRY =
      Pattern.compile(
          "^\\d+; \\d+ \\d+ (?:PUBLICATION - |COMMENT - PUBLICATION |PUBLICATION TABLE \\S+ |PUBLICATION TABLES IN SCHEMA \\S+ )"
              + "(?:ferry_pub_[0-9a-f]{12}|ferry_sync_[0-9a-f]{12}_keys)( |$)");

  /** The list file and how many tables' data it restores. */
  public record Written(Path file, int tablesWithData) {}

  private RestoreList() {}

  /**
   * Writes the list for {@code directory} into a temporary file (the caller deletes it).
   *
   * @param installed the extensions the target had before this run's first restore: an
   *     extension an earlier, dead attempt created is this run's, and is dropped and restored
   *     with the rest
   * @param leaveOut other entries to leave out (a whole table-of-contents line is tested);
   *     Ferry's own publications are always left out
   */
  public static Written write(PgTools tools, Path directory, Set<String> installed, Predicate<String> leaveOut) {
    List<String> lines = new ArrayList<>();
    try {
      ToolRun.Outcome outcome =
          ToolRun.run(List.of(tools.command("pg_restore"), "--list", directory.toString()), Map.of(), lines::add, () -> {});
      if (!outcome.succeeded()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "pg_restore --list cannot read the dump in " + directory + ": " + outcome.lastLinesJoined(),
            Errors.RESTORE_FAILED);
      }
      List<String> kept = new ArrayList<>();
      int tables = 0;
      for (String line : lines) {
        Matcher m = EXTENSION_ENTRY.matcher(line);
        boolean skip = m.find() && installed.contains(m.group(1));
        if (skip) {
          log.info("the target already has extension {}: not restoring it", m.group(1));
        }
        skip = skip || (!line.startsWith(";") && (leaveOut.test(line) || isFerrysPublication(line)));
        if (!skip && !line.startsWith(";") && line.contains(" TABLE DATA ")) {
          tables++;
        }
        kept.add(skip ? ";" + line : line);
      }
      Path list = Files.createTempFile("ferry-restore-", ".list");
      Files.write(list, kept);
      return new Written(list, tables);
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "pg_restore could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  /** Whether a table-of-contents line is one of Ferry's own publications ({@link #FERRY_PUBLICATION_ENTRY}). */
  static boolean isFerrysPublication(String tocLine) {
    return FERRY_PUBLICATION_ENTRY.matcher(tocLine).find();
  }

  /** Deletes a list file; best effort. */
  public static void delete(Written list) {
    try {
      Files.deleteIfExists(list.file());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", list.file(), e.getMessage());
    }
  }
}

package dev.ferry.activities.copy;

import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.ToolRun;
import dev.ferry.model.Errors;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The post-data section of the schema dump (indexes, constraints, triggers, …), as pg_restore
 * lists it and writes it, read so the copy can build each table's indexes as soon as the table's
 * data is in, and leave the rest to one pg_restore at the end, as pgcopydb does.
 */
final class PostData {
  /** {@code 3404; 1259 16733 INDEX Billing Invoice Lines_sku_idx ferry}: dump id, catalog, oid, rest. */
  private static final Pattern ENTRY = Pattern.compile("^(\\d+); (\\d+) (\\d+) (.*)$");
  /** pg_restore's header before each entry it writes as SQL. */
  private static final Pattern HEADER = Pattern.compile("^-- Name: .*; Type: ([A-Z ]+); Schema: .*; Owner: .*$");

  /** One table-of-contents entry of the post-data section. */
  record Entry(int dumpId, long catalog, long oid, String rest) {
    /** A plain index ({@code INDEX}, not {@code INDEX ATTACH}). */
    boolean isIndex() {
      return catalog == 1259 && rest.startsWith("INDEX ") && !rest.startsWith("INDEX ATTACH ");
    }

    /** A table constraint ({@code CONSTRAINT}, not {@code FK CONSTRAINT}): primary key, unique, … */
    boolean isConstraint() {
      return catalog == 2606 && rest.startsWith("CONSTRAINT ");
    }

    /** One of the trigger method's capture triggers, which the target must never get. */
    boolean isCaptureTrigger() {
      return rest.startsWith("TRIGGER ") && rest.contains(" ferry_capture_");
    }
  }

  private PostData() {}

  /** The post-data entries of a custom-format dump, in the dump's order. */
  static List<Entry> entries(PgTools tools, Path dump) {
    List<String> lines = run(tools, List.of(tools.command("pg_restore"), "--list", "--section=post-data", dump.toString()));
    List<Entry> entries = new ArrayList<>();
    for (String line : lines) {
      Matcher m = ENTRY.matcher(line);
      if (m.matches()) {
        entries.add(new Entry(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), m.group(4)));
      }
    }
    return entries;
  }

  /**
   * The SQL pg_restore would run for each of {@code entries} (all of them {@code INDEX}), by dump
   * id: its own text, so nothing pg_dump adds to an index (its statistics targets, {@code CLUSTER
   * ON}, replica identity) is lost. The script is cut at pg_restore's entry headers; the cut is
   * checked against the entries asked for, in order.
   */
  static Map<Integer, String> indexSql(PgTools tools, Path dump, List<Entry> entries) {
    Map<Integer, String> sql = new LinkedHashMap<>();
    if (entries.isEmpty()) {
      return sql;
    }
    Path list = null;
    Path out = null;
    try {
      list = Files.createTempFile("ferry-copy-", ".list");
      out = Files.createTempFile("ferry-copy-", ".sql");
      List<String> listed = new ArrayList<>();
      for (Entry e : entries) {
        listed.add(e.dumpId() + "; " + e.catalog() + " " + e.oid() + " " + e.rest());
      }
      Files.write(list, listed);
      // To a file, not stdout: a warning pg_restore prints must not end up in an index's SQL.
      run(
          tools,
          List.of(
              tools.command("pg_restore"), "--no-owner", "--no-privileges", "--no-tablespaces", "--file=" + out,
              "--use-list=" + list, dump.toString()));
      List<String> script = Files.readAllLines(out);
      List<List<String>> bodies = new ArrayList<>();
      List<String> types = new ArrayList<>();
      List<String> body = null;
      for (int i = 0; i < script.size(); i++) {
        String line = script.get(i);
        Matcher header = HEADER.matcher(line);
        if (header.matches() && i > 0 && script.get(i - 1).equals("--") && i + 1 < script.size() && script.get(i + 1).equals("--")) {
          if (body != null) {
            // The "--" line that opened this header belongs to no entry.
            body.remove(body.size() - 1);
          }
          body = new ArrayList<>();
          bodies.add(body);
          types.add(header.group(1));
          i++; // the closing "--"
          continue;
        }
        if (body != null) {
          body.add(line);
        }
      }
      if (bodies.size() != entries.size() || !types.stream().allMatch("INDEX"::equals)) {
        throw ApplicationFailure.newNonRetryableFailure(
            "pg_restore wrote " + bodies.size() + " index definitions for the " + entries.size() + " asked for ("
                + String.join(", ", types) + "); the streaming copy cannot build this schema's indexes"
                + " table by table. Migrate with snapshot.method: dump",
            Errors.RESTORE_FAILED);
      }
      for (int i = 0; i < entries.size(); i++) {
        sql.put(entries.get(i).dumpId(), statements(bodies.get(i)));
      }
      return sql;
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure("pg_restore could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } finally {
      delete(list);
      delete(out);
    }
  }

  private static void delete(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // Temporary: dump ids and index definitions, nothing secret.
      }
    }
  }

  /** An entry's text without the script's comments, blank lines and psql meta-commands. */
  private static String statements(List<String> body) {
    StringBuilder b = new StringBuilder();
    for (String line : body) {
      if (line.isBlank() || line.startsWith("--") || line.startsWith("\\")) {
        continue;
      }
      b.append(line).append('\n');
    }
    return b.toString().trim();
  }

  private static List<String> run(PgTools tools, List<String> command) {
    List<String> lines = new ArrayList<>();
    try {
      ToolRun.Outcome outcome = ToolRun.run(command, Map.of(), lines::add, () -> Activity.getExecutionContext().heartbeat(null));
      if (!outcome.succeeded()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "pg_restore cannot read the copy's schema dump: " + outcome.lastLinesJoined(), Errors.RESTORE_FAILED);
      }
      return lines;
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure("pg_restore could not start: " + e.getMessage(), Errors.TOOL_MISSING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }
}

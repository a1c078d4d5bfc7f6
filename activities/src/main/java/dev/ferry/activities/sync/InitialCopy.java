package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.PgRestore;
import dev.ferry.activities.postgres.PgTools;
import dev.ferry.activities.postgres.SnapshotStore;
import dev.ferry.activities.postgres.TableProgress;
import dev.ferry.activities.postgres.ToolRun;
import dev.ferry.activities.postgres.WriteFence;
import dev.ferry.model.Errors;
import dev.ferry.model.Progress;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the source's schema, and for the trigger method its data, into the target with
 * pg_dump and pg_restore, inside one activity attempt on one worker: the dump is a scratch
 * directory deleted before the attempt returns.
 *
 * <p>The dump leaves out Ferry's own schemas ({@code ferry_*}) and the capture triggers, so the
 * target never gets a trigger writing to a schema it does not have. The restore claims the
 * target as a single-phase restore does ({@code --clean} only drops this run's own work).
 */
public final class InitialCopy {
  private static final Logger log = LoggerFactory.getLogger(InitialCopy.class);
  /** pg_restore's sections, in the order a restore needs them. */
  static final String PRE_DATA = "pre-data";
  static final String DATA = "data";
  static final String POST_DATA = "post-data";

  private final Databases databases;
  private final PgTools tools;
  private final PgRestore restore;
  private final Path workDir;

  /** @param workDir where dumps are written while a copy runs (the worker's {@code sync} dir) */
  public InitialCopy(Databases databases, PgTools tools, Path workDir) {
    this.databases = databases;
    this.tools = tools;
    this.restore = new PgRestore(databases, tools);
    this.workDir = workDir;
  }

  /**
   * Dumps the source into a new scratch directory: the schema only, or schema and data as of
   * {@code exportedSnapshot} ({@code pg_export_snapshot()} of a transaction the caller keeps
   * open until this returns; {@code null} for none). Heartbeats tables done.
   */
  Path dump(SyncSession session, boolean schemaOnly, String exportedSnapshot) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Endpoint source = session.source();
    String applicationName = session.applicationName("ferry-sync-dump");
    // A pg_dump an earlier attempt left running (its worker died) would keep loading the source.
    databases.terminateSessionsQuietly(source, applicationName);
    Path directory = workDir.resolve(session.schema() + (schemaOnly ? "-schema" : "-data"));
    discard(directory);
    List<String> command = new ArrayList<>();
    command.add(tools.command("pg_dump"));
    command.addAll(
        List.of(
            "--format=directory",
            "--jobs=" + (schemaOnly ? 1 : session.jobs()),
            "--file=" + directory,
            "--verbose",
            "--no-password",
            "--lock-wait-timeout=300000",
            // Ferry's bookkeeping (this sync's change table, a restore's claim) is not the app's.
            "--exclude-schema=ferry_sync_*",
            "--exclude-schema=ferry_restore_claim",
            "--exclude-schema=" + WriteFence.SCHEMA));
    if (schemaOnly) {
      command.add("--schema-only");
    }
    if (exportedSnapshot != null) {
      command.add("--snapshot=" + exportedSnapshot);
    }
    TableProgress progress = new TableProgress();
    try {
      Files.createDirectories(workDir);
      ToolRun.runOrFail(
          "pg_dump", source, Errors.SNAPSHOT_FAILED, command, source.url().libpqEnvironment(applicationName),
          progress::accept,
          () -> context.heartbeat(Progress.of(progress.done(), -1, SnapshotStore.sizeOf(directory), "copying " + progress.current())));
      return directory;
    } catch (IOException e) {
      discard(directory);
      throw ApplicationFailure.newNonRetryableFailure(
          "writing the sync's dump into " + directory + " failed: " + e.getMessage(), Errors.SNAPSHOT_FAILED);
    } catch (RuntimeException e) {
      // Leave no copy of production data behind, and no session on the source.
      discard(directory);
      databases.terminateSessionsQuietly(source, applicationName);
      throw e;
    }
  }

  /**
   * Restores the given sections of a dump into the target (for example {@link #PRE_DATA}
   * before a subscription's copy and {@link #POST_DATA} after it; none for all). Returns the
   * tables whose data it restored. The target's claim is released once {@link #POST_DATA} (or
   * everything) is restored. Heartbeats.
   */
  int restore(SyncSession session, Path dump, String... sections) {
    boolean all = sections.length == 0;
    String trigger = session.triggerName();
    return restore.restore(
        new PgRestore.Job(
            session.target(),
            session.workflowId(),
            session.applicationName("ferry-sync-restore"),
            dump,
            session.jobs(),
            List.of(sections),
            all || List.of(sections).contains(PRE_DATA),
            all || List.of(sections).contains(POST_DATA),
            line -> (line.contains(" TRIGGER ") && line.contains(trigger)) || WriteFence.isFenceEntry(line)));
  }

  /** Deletes a dump directory; best effort. */
  void discard(Path dump) {
    if (!Files.exists(dump)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dump)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete the sync's dump {}: {}", dump, e.getMessage());
    }
  }
}

package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.PgTools;
import java.nio.file.Path;

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
  /** pg_restore's sections, in the order a restore needs them. */
  static final String PRE_DATA = "pre-data";
  static final String DATA = "data";
  static final String POST_DATA = "post-data";

  private final Databases databases;
  private final PgTools tools;
  private final Path workDir;

  public InitialCopy(Databases databases, PgTools tools, Path workDir) {
    this.databases = databases;
    this.tools = tools;
    this.workDir = workDir;
  }

  /**
   * Dumps the source into a new scratch directory: the schema only, or schema and data as of
   * {@code exportedSnapshot} ({@code pg_export_snapshot()} of a transaction the caller keeps
   * open until this returns; {@code null} for none). Heartbeats tables done.
   */
  Path dump(SyncSession session, boolean schemaOnly, String exportedSnapshot) {
    throw new UnsupportedOperationException("being written");
  }

  /**
   * Restores the given sections of a dump into the target (for example {@link #PRE_DATA}
   * before a subscription's copy and {@link #POST_DATA} after it). Returns the tables whose
   * data it restored. Heartbeats.
   */
  int restore(SyncSession session, Path dump, String... sections) {
    throw new UnsupportedOperationException("being written");
  }

  /** Deletes a dump directory; best effort. */
  void discard(Path dump) {
    throw new UnsupportedOperationException("being written");
  }
}

package dev.ferry.model.runbook;

/**
 * How the data is copied: the single-phase copy, and the trigger method's initial copy.
 *
 * @param jobs parallel jobs: tables copied and indexes built at once ({@code stream}), or {@code
 *     pg_dump -j} and {@code pg_restore -j} ({@code dump}); {@code null} means as many as the
 *     worker has cores
 * @param method {@link #STREAM} (the default when {@code null}): every table streamed from one
 *     exported snapshot of the source straight into the target with {@code COPY}, spread over the
 *     workers, each table checked as it lands; or {@link #DUMP}: {@code pg_dump -Fd} onto a
 *     worker's disk, then {@code pg_restore}, for those who want the dump as an artifact
 */
public record SnapshotSpec(Integer jobs, String method) {
  public static final String STREAM = "stream";
  public static final String DUMP = "dump";
  public static final SnapshotSpec DEFAULT = new SnapshotSpec(null, null);

  /** The method a run uses: {@link #STREAM} unless the runbook says {@link #DUMP}. */
  public String methodOrDefault() {
    return method == null ? STREAM : method;
  }
}

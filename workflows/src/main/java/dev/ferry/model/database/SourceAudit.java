package dev.ferry.model.database;

import java.util.List;

/**
 * What in the source's schema a migration must know about. Each list names at most {@link
 * #MAX_NAMED} objects and ends with {@code … and N more} beyond that.
 *
 * @param extensions every extension but plpgsql, and what the target offers of it
 * @param tablesWithoutPrimaryKey verified as one whole-table checksum; trigger sync refuses them
 * @param tablesWithoutReplicaIdentity tables whose UPDATE and DELETE would fail once published
 *     for logical replication (no primary key and no replica identity index or FULL)
 * @param generatedColumns {@code table.column}
 * @param largeObjects how many; the snapshot carries them, and both sync methods at the drain
 *     (neither logical replication nor a trigger can capture them)
 * @param unloggedTables restored unlogged: the target loses their rows on a crash
 * @param sequences {@code sequence → table.column} that owns it, or {@code (no owner)}
 * @param logicalReplication whether the source can publish for logical replication
 */
public record SourceAudit(
    List<ExtensionCheck> extensions,
    List<String> tablesWithoutPrimaryKey,
    List<String> tablesWithoutReplicaIdentity,
    List<String> generatedColumns,
    long largeObjects,
    List<String> unloggedTables,
    List<String> sequences,
    LogicalReplication logicalReplication) {
  public static final int MAX_NAMED = 100;

  /**
   * @param schema where it is installed on the source (Heroku puts extensions in {@code heroku_ext})
   * @param availableOnTarget the target server can install it
   * @param targetDefaultVersion the version the target installs, or {@code null}
   * @param targetSchema where it is already installed on the target, or {@code null}
   */
  public record ExtensionCheck(
      String name,
      String version,
      String schema,
      boolean availableOnTarget,
      String targetDefaultVersion,
      String targetSchema) {}

  /**
   * @param possible wal_level is logical and Ferry's role may replicate
   * @param reason why not, when it is not
   */
  public record LogicalReplication(boolean possible, String walLevel, String reason) {}
}

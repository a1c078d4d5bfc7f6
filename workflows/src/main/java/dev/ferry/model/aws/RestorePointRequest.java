package dev.ferry.model.aws;

import java.util.Locale;

/**
 * A manual snapshot of the target RDS instance to take before cutover.
 *
 * @param instanceId the DB instance identifier
 * @param snapshotId the snapshot's identifier; the same one on every retry, so a retry finds
 *     the snapshot its earlier attempt started
 */
public record RestorePointRequest(String instanceId, String snapshotId) {

  /**
   * A request whose snapshot is named after the run ({@code ferry-<run>-cutover}), made a valid
   * RDS identifier: letters, digits and single hyphens, starting with a letter, at most 255.
   */
  public static RestorePointRequest forRun(String instanceId, String runId) {
    String name =
        ("ferry-" + runId + "-cutover")
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9-]", "-")
            .replaceAll("-{2,}", "-");
    if (name.length() > 255) {
      name = name.substring(0, 255);
    }
    name = name.replaceAll("-+$", "");
    return new RestorePointRequest(instanceId, name);
  }
}

package dev.ferry.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What an approver is shown at a gate (the preflight's findings, the lag, the last verification),
 * and its digest: a decision records the digest of the evidence it was made on, and one made on
 * evidence that has changed since is refused.
 */
public final class Evidence {
  private Evidence() {}

  /** SHA-256 of the lines, one per line, in hex. Pure computation: safe in workflow code. */
  public static String digest(List<String> lines) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String line : lines) {
        sha.update(line.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

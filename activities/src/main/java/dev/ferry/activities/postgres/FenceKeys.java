package dev.ferry.activities.postgres;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys that let Ferry's own sessions through the write fence ({@link WriteFence}), one per
 * run: {@code HMAC-SHA256(deployment secret, run id)}, hex. The fence stores only the key's
 * SHA-256; a session passes when it carries the key itself. The app, even connected as the same
 * role and reading the same catalogs, sees the digest and never the key, which exists only in
 * the workers' memory and in the setting of Ferry's own sessions (sent as a bind parameter, so
 * never in {@code pg_stat_activity} or {@code pg_stat_statements}).
 *
 * <p>The secret is derived from the payload key every worker of a deployment shares and must keep
 * (without it no worker can read the runs' histories), so a freeze installed by one worker is
 * passed by the drain, teardown or unfreeze of any other, also after a restart. Older payload
 * keys kept for reading ({@code FERRY_PAYLOAD_PREVIOUS_KEYS}) still open fences installed before
 * a rotation. Without a payload key the secret is random per process: a fence then outlives its
 * key when the worker restarts (see {@link #ephemeral()}).
 *
 * <p>Never logged or printed: {@link #toString()} says only how many secrets there are.
 */
public final class FenceKeys {
  private static final String PURPOSE = "ferry-write-fence-v1\0";
  /** One per process, so that every Databases of a process without a payload key agrees. */
  private static final FenceKeys PROCESS = new FenceKeys(List.of(randomSecret()), true);

  private final List<byte[]> secrets;
  private final boolean ephemeral;

  private FenceKeys(List<byte[]> secrets, boolean ephemeral) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("at least one secret");
    }
    this.secrets = secrets.stream().map(byte[]::clone).toList();
    this.ephemeral = ephemeral;
  }

  /**
   * Keys from the deployment's secrets, the current one first, then those kept from before a
   * rotation (each at least 32 bytes).
   */
  public static FenceKeys of(List<byte[]> secrets) {
    for (byte[] s : secrets) {
      if (s.length < 32) {
        throw new IllegalArgumentException("a fence secret needs at least 32 bytes");
      }
    }
    return new FenceKeys(secrets, false);
  }

  /**
   * This process's own random secret: for tests and for a worker without a payload key. A fence
   * with an event trigger (a superuser credential) then refuses the DDL of Ferry's teardown when
   * another process retries it; the README says to set {@code FERRY_PAYLOAD_KEY}.
   */
  public static FenceKeys ephemeral() {
    return PROCESS;
  }

  public boolean isEphemeral() {
    return ephemeral;
  }

  /** The key a freeze of this run installs the fence with. */
  String key(String runId) {
    return derive(secrets.get(0), runId);
  }

  /** Every key this deployment could have fenced the run with, the current one first. */
  List<String> candidates(String runId) {
    List<String> keys = new ArrayList<>();
    for (byte[] secret : secrets) {
      keys.add(derive(secret, runId));
    }
    return keys;
  }

  /** The digest a freeze of this run writes into its fence (never the key itself). */
  public String fenceDigest(String runId) {
    return digest(key(runId));
  }

  /** Whether one of this deployment's keys for the run (current or from before a rotation) opens a fence with this digest. */
  public boolean opens(String fenceDigest, String runId) {
    return candidates(runId).stream().anyMatch(k -> digest(k).equals(fenceDigest));
  }

  /** What the fence stores: the key's SHA-256, hex. */
  static String digest(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A random key no session carries: the rehearsal's probe installs its trial fence with it. */
  static String throwaway() {
    return HexFormat.of().formatHex(randomSecret());
  }

  private static String derive(byte[] secret, String runId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal((PURPOSE + runId).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomSecret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  @Override
  public String toString() {
    return ephemeral ? "fence keys: this process only" : "fence keys: " + secrets.size() + " secret(s)";
  }
}

package dev.ferry.model;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed approvals: the API signs every gate decision it sends with an HMAC-SHA256 key shared
 * with the workers, and a workflow that holds the key accepts only decisions whose signature
 * verifies. Whoever can reach Temporal but not the key cannot forge an approval.
 *
 * <p>Pure computation (no clock, no randomness, no I/O), so workflow code may call it; the same
 * input gives the same answer on replay as long as the worker has the same keys.
 *
 * <p>The signed message is every field of the decision plus the run, each length-prefixed so
 * that no two different decisions share a message: {@code runId, gate, verdict, approver,
 * comment, evidenceDigest, issuedAt}. Signatures look like {@code v1:<key id>:<base64url mac>};
 * the key id (first 8 hex digits of the key's SHA-256) lets a worker that holds the current and
 * the previous key verify decisions signed with either while keys rotate.
 */
public final class ApprovalSignature {
  private static final String VERSION = "v1";
  /** HMAC-SHA256 keys shorter than this are refused: a guessable key is no key. */
  public static final int MIN_KEY_BYTES = 32;

  private ApprovalSignature() {}

  /**
   * Signs a decision on a run's gate.
   *
   * @param evidenceDigest the digest of the evidence the approver saw, or null
   * @param issuedAt when the API signed it
   */
  public static String sign(
      byte[] key,
      String runId,
      String gate,
      Verdict verdict,
      String approver,
      String comment,
      String evidenceDigest,
      Instant issuedAt) {
    checkKey(key);
    byte[] mac = mac(key, message(runId, gate, verdict, approver, comment, evidenceDigest, issuedAt));
    return VERSION + ":" + keyId(key) + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(mac);
  }

  /** Signs a decision as the API sends it: the result carries the signature and issuedAt. */
  public static GateDecision signed(byte[] key, String runId, GateDecision d, String evidenceDigest, Instant issuedAt) {
    String signature = sign(key, runId, d.gate(), d.verdict(), d.approver(), d.comment(), evidenceDigest, issuedAt);
    return new GateDecision(d.gate(), d.verdict(), d.approver(), d.comment(), evidenceDigest, signature, issuedAt);
  }

  /**
   * Whether {@code signature} is a valid signature of this decision by one of {@code keys}.
   * Never throws: a missing, malformed or foreign signature is simply not valid.
   */
  public static boolean verify(
      List<byte[]> keys,
      String signature,
      String runId,
      String gate,
      Verdict verdict,
      String approver,
      String comment,
      String evidenceDigest,
      Instant issuedAt) {
    if (signature == null || issuedAt == null || keys == null) {
      return false;
    }
    String[] parts = signature.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(VERSION)) {
      return false;
    }
    byte[] presented;
    try {
      presented = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      return false;
    }
    byte[] message = message(runId, gate, verdict, approver, comment, evidenceDigest, issuedAt);
    for (byte[] key : keys) {
      if (key != null && key.length >= MIN_KEY_BYTES && keyId(key).equals(parts[1])
          && MessageDigest.isEqual(mac(key, message), presented)) {
        return true;
      }
    }
    return false;
  }

  /** {@link #verify} for a decision as the workflow receives it. */
  public static boolean verify(List<byte[]> keys, String runId, GateDecision d, String evidenceDigest) {
    return d != null
        && verify(keys, d.signature(), runId, d.gate(), d.verdict(), d.approver(), d.comment(), evidenceDigest, d.issuedAt());
  }

  /** Reads a key written as base64 (standard or URL-safe), refusing one that is too short. */
  public static byte[] decodeKey(String base64) {
    byte[] key;
    try {
      String text = base64.trim();
      key = text.contains("-") || text.contains("_") ? Base64.getUrlDecoder().decode(text) : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the approval signing key must be base64 (for example: openssl rand -base64 32)");
    }
    checkKey(key);
    return key;
  }

  /** The key's public name: the first 8 hex digits of its SHA-256. */
  public static String keyId(byte[] key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key)).substring(0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static void checkKey(byte[] key) {
    if (key == null || key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "the approval signing key must be at least " + MIN_KEY_BYTES + " bytes (openssl rand -base64 32)");
    }
  }

  private static byte[] message(
      String runId, String gate, Verdict verdict, String approver, String comment, String evidenceDigest, Instant issuedAt) {
    List<String> fields = new ArrayList<>();
    fields.add(VERSION);
    fields.add(runId);
    fields.add(gate);
    fields.add(verdict == null ? null : verdict.name());
    fields.add(approver);
    fields.add(comment);
    fields.add(evidenceDigest);
    fields.add(issuedAt == null ? null : issuedAt.toString());
    int size = 0;
    List<byte[]> encoded = new ArrayList<>();
    for (String f : fields) {
      byte[] b = f == null ? new byte[0] : f.getBytes(StandardCharsets.UTF_8);
      encoded.add(b);
      size += 5 + b.length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(size);
    for (int i = 0; i < encoded.size(); i++) {
      // A null and an empty field differ: a flag byte marks which.
      buffer.put((byte) (fields.get(i) == null ? 0 : 1));
      buffer.putInt(encoded.get(i).length);
      buffer.put(encoded.get(i));
    }
    return buffer.array();
  }

  private static byte[] mac(byte[] key, byte[] message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has HmacSHA256", e);
    }
  }
}

package dev.ferry.temporal;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts every payload Ferry's worker and API hand to Temporal (workflow input and results,
 * activity arguments, heartbeats, queries, signals, updates, and failure messages) with
 * AES-256-GCM, so Temporal's history and its UI hold ciphertext: the runbook's topology, table
 * names, errors quoting data.
 *
 * <p>Each payload becomes {@code metadata.encoding = binary/encrypted}, {@code
 * metadata.encryption-key-id = <8 hex>}, {@code data = nonce(12) || ciphertext+tag}. The key id
 * (first 8 hex digits of the key's SHA-256) is also the additional authenticated data. Old
 * keys can be kept for decoding while a key rotates; payloads not encrypted at all (from before
 * encryption was turned on) are passed through on decode.
 */
public final class PayloadEncryption implements PayloadCodec {
  public static final String ENCODING = "binary/encrypted";
  public static final String KEY_ID = "encryption-key-id";
  private static final ByteString ENCODING_BYTES = ByteString.copyFromUtf8(ENCODING);
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String currentId;
  private final Map<String, SecretKey> keys;

  private PayloadEncryption(String currentId, Map<String, SecretKey> keys) {
    this.currentId = currentId;
    this.keys = keys;
  }

  /**
   * @param currentKey base64 of 32 random bytes ({@code openssl rand -base64 32}): encrypts
   * @param previousKeys base64 keys, comma-separated, that only decrypt; blank for none
   * @throws IllegalArgumentException when a key is not base64 of 32 bytes (the key is not quoted)
   */
  public static PayloadEncryption of(String currentKey, String previousKeys) {
    Map<String, SecretKey> keys = new LinkedHashMap<>();
    SecretKey current = key(currentKey, "the payload key");
    String currentId = keyId(current);
    keys.put(currentId, current);
    if (previousKeys != null && !previousKeys.isBlank()) {
      for (String k : previousKeys.split(",")) {
        SecretKey previous = key(k, "a previous payload key");
        keys.putIfAbsent(keyId(previous), previous);
      }
    }
    return new PayloadEncryption(currentId, keys);
  }

  /** A fresh random key, base64: the embedded dev stack's, whose runs end with the process. */
  public static String randomKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** Temporal's default JSON converter, with every payload and failure encrypted by this codec. */
  public DataConverter dataConverter() {
    return new CodecDataConverter(DefaultDataConverter.newDefaultInstance(), List.of(this), true);
  }

  /** The data converter for an optional codec: encrypted when there is one. */
  public static DataConverter dataConverter(PayloadEncryption encryption) {
    return encryption == null ? DefaultDataConverter.newDefaultInstance() : encryption.dataConverter();
  }

  public String currentKeyId() {
    return currentId;
  }

  /**
   * Secrets for another use, derived from these keys ({@code HMAC-SHA256(key, purpose)}), the
   * current key's first: a secret every worker of the deployment shares, keeps across restarts
   * and rotates with this key, without the key itself serving two purposes. The write fence's
   * keys come from here.
   */
  public List<byte[]> derivedSecrets(String purpose) {
    List<byte[]> secrets = new ArrayList<>();
    try {
      for (SecretKey key : keys.values()) {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
        secrets.add(mac.doFinal(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return secrets;
  }

  @Override
  public List<Payload> encode(List<Payload> payloads) {
    List<Payload> out = new ArrayList<>(payloads.size());
    SecretKey key = keys.get(currentId);
    for (Payload p : payloads) {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      byte[] sealed;
      try {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(currentId.getBytes(StandardCharsets.US_ASCII));
        sealed = cipher.doFinal(p.toByteArray());
      } catch (GeneralSecurityException e) {
        throw new PayloadCodecException(e);
      }
      byte[] data = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, data, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, data, NONCE_BYTES, sealed.length);
      out.add(
          Payload.newBuilder()
              .putMetadata("encoding", ENCODING_BYTES)
              .putMetadata(KEY_ID, ByteString.copyFromUtf8(currentId))
              .setData(ByteString.copyFrom(data))
              .build());
    }
    return out;
  }

  @Override
  public List<Payload> decode(List<Payload> payloads) {
    List<Payload> out = new ArrayList<>(payloads.size());
    for (Payload p : payloads) {
      if (!ENCODING_BYTES.equals(p.getMetadataOrDefault("encoding", ByteString.EMPTY))) {
        out.add(p); // written before encryption was on
        continue;
      }
      String id = p.getMetadataOrDefault(KEY_ID, ByteString.EMPTY).toStringUtf8();
      SecretKey key = keys.get(id);
      if (key == null) {
        throw new PayloadCodecException(
            "a payload is encrypted with key " + id + ", which this process does not have (it has " + String.join(", ", keys.keySet())
                + "); set the key it was written with in FERRY_PAYLOAD_PREVIOUS_KEYS");
      }
      byte[] data = p.getData().toByteArray();
      if (data.length < NONCE_BYTES + TAG_BITS / 8) {
        throw new PayloadCodecException("an encrypted payload is too short to be one");
      }
      try {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, data, 0, NONCE_BYTES));
        cipher.updateAAD(id.getBytes(StandardCharsets.US_ASCII));
        out.add(Payload.parseFrom(cipher.doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES)));
      } catch (GeneralSecurityException | InvalidProtocolBufferException e) {
        throw new PayloadCodecException("an encrypted payload does not decrypt with key " + id + ": it was altered or the key is wrong", e);
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "payloads encrypted (AES-256-GCM, key " + currentId + (keys.size() > 1 ? ", " + (keys.size() - 1) + " older key(s) for reading" : "") + ")";
  }

  private static SecretKey key(String base64, String what) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64 == null ? "" : base64.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " is not base64; make one with: openssl rand -base64 32");
    }
    if (bytes.length != 32) {
      throw new IllegalArgumentException(what + " must be 32 bytes (base64 of 32 random bytes: openssl rand -base64 32), not " + bytes.length);
    }
    return new SecretKeySpec(bytes, "AES");
  }

  private static String keyId(SecretKey key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded())).substring(0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}

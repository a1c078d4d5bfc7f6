package dev.ferry.activities.copy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * PostgreSQL's {@code hash_bytes_extended} (src/common/hashfn.c: Bob Jenkins' lookup3, 64 bits),
 * which {@code hashtextextended(text, 0)} computes over a text's bytes: the worker hashes the
 * rows it streams with it, and the target hashes the same text with the SQL function, so the two
 * sums meet. Checked against the server in the tests.
 */
final class TextHash {
  private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  private TextHash() {}

  /** {@code hashtextextended} of {@code length} bytes of {@code k} from {@code offset}, seed 0. */
  static long hash(byte[] k, int offset, int length) {
    int a = 0x9e3779b9 + length + 3923095;
    int b = a;
    int c = a;
    int i = offset;
    int len = length;
    while (len >= 12) {
      a += word(k, i);
      b += word(k, i + 4);
      c += word(k, i + 8);
      // mix(a, b, c)
      a -= c;
      a ^= Integer.rotateLeft(c, 4);
      c += b;
      b -= a;
      b ^= Integer.rotateLeft(a, 6);
      a += c;
      c -= b;
      c ^= Integer.rotateLeft(b, 8);
      b += a;
      a -= c;
      a ^= Integer.rotateLeft(c, 16);
      c += b;
      b -= a;
      b ^= Integer.rotateLeft(a, 19);
      a += c;
      c -= b;
      c ^= Integer.rotateLeft(b, 4);
      b += a;
      i += 12;
      len -= 12;
    }
    switch (len) {
      case 11: c += (k[i + 10] & 0xff) << 24;
      case 10: c += (k[i + 9] & 0xff) << 16;
      case 9: c += (k[i + 8] & 0xff) << 8;
      case 8: b += (k[i + 7] & 0xff) << 24;
      case 7: b += (k[i + 6] & 0xff) << 16;
      case 6: b += (k[i + 5] & 0xff) << 8;
      case 5: b += k[i + 4] & 0xff;
      case 4: a += (k[i + 3] & 0xff) << 24;
      case 3: a += (k[i + 2] & 0xff) << 16;
      case 2: a += (k[i + 1] & 0xff) << 8;
      case 1: a += k[i] & 0xff;
      default:
        break;
    }
    // final(a, b, c)
    c ^= b;
    c -= Integer.rotateLeft(b, 14);
    a ^= c;
    a -= Integer.rotateLeft(c, 11);
    b ^= a;
    b -= Integer.rotateLeft(a, 25);
    c ^= b;
    c -= Integer.rotateLeft(b, 16);
    a ^= c;
    a -= Integer.rotateLeft(c, 4);
    b ^= a;
    b -= Integer.rotateLeft(a, 14);
    c ^= b;
    c -= Integer.rotateLeft(b, 24);
    return ((long) b << 32) | (c & 0xffffffffL);
  }

  /** Four bytes as a little-endian word, as the server reads them on the machines it runs on. */
  private static int word(byte[] k, int i) {
    return (int) INT.get(k, i);
  }
}

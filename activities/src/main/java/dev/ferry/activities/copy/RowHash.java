package dev.ferry.activities.copy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * What a set of rows hashes to: their count, their bytes, and the sum (modulo 2^128) of a 128-bit
 * MurmurHash3 ({@code x64_128}, seed 0) of each row's text as {@code COPY … TO STDOUT} writes it.
 * The sum does not depend on the order of the rows, so the stream from the source and the rows
 * read back from the target compare without sorting either; it changes with any changed,
 * missing, extra or duplicated row. Sums of parts add up to the sum of the whole.
 *
 * <p>It guards against a copy that went wrong, not against rows forged to collide; 128 bits make
 * an accidental match of two different sets of rows far less likely than the 64 bits of the
 * chunked verification's {@code hashtextextended}.
 */
final class RowHash {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private long rows;
  private long bytes;
  private long high;
  private long low;

  RowHash() {}

  RowHash(long rows, long bytes, long high, long low) {
    this.rows = rows;
    this.bytes = bytes;
    this.high = high;
    this.low = low;
  }

  long rows() {
    return rows;
  }

  long bytes() {
    return bytes;
  }

  long high() {
    return high;
  }

  long low() {
    return low;
  }

  /** Adds one row: {@code length} bytes of {@code row} from {@code offset}, its newline included. */
  void addRow(byte[] row, int offset, int length) {
    long h1 = 0;
    long h2 = 0;
    int blocks = length >>> 4;
    for (int i = 0; i < blocks; i++) {
      int at = offset + (i << 4);
      long k1 = (long) LONGS.get(row, at);
      long k2 = (long) LONGS.get(row, at + 8);
      k1 *= C1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= C2;
      h1 ^= k1;
      h1 = Long.rotateLeft(h1, 27);
      h1 += h2;
      h1 = h1 * 5 + 0x52dce729;
      k2 *= C2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= C1;
      h2 ^= k2;
      h2 = Long.rotateLeft(h2, 31);
      h2 += h1;
      h2 = h2 * 5 + 0x38495ab5;
    }
    int tail = offset + (blocks << 4);
    long k1 = 0;
    long k2 = 0;
    switch (length & 15) {
      case 15: k2 ^= (long) (row[tail + 14] & 0xff) << 48;
      case 14: k2 ^= (long) (row[tail + 13] & 0xff) << 40;
      case 13: k2 ^= (long) (row[tail + 12] & 0xff) << 32;
      case 12: k2 ^= (long) (row[tail + 11] & 0xff) << 24;
      case 11: k2 ^= (long) (row[tail + 10] & 0xff) << 16;
      case 10: k2 ^= (long) (row[tail + 9] & 0xff) << 8;
      case 9:
        k2 ^= row[tail + 8] & 0xff;
        k2 *= C2;
        k2 = Long.rotateLeft(k2, 33);
        k2 *= C1;
        h2 ^= k2;
      case 8: k1 ^= (long) (row[tail + 7] & 0xff) << 56;
      case 7: k1 ^= (long) (row[tail + 6] & 0xff) << 48;
      case 6: k1 ^= (long) (row[tail + 5] & 0xff) << 40;
      case 5: k1 ^= (long) (row[tail + 4] & 0xff) << 32;
      case 4: k1 ^= (long) (row[tail + 3] & 0xff) << 24;
      case 3: k1 ^= (long) (row[tail + 2] & 0xff) << 16;
      case 2: k1 ^= (long) (row[tail + 1] & 0xff) << 8;
      case 1:
        k1 ^= row[tail] & 0xff;
        k1 *= C1;
        k1 = Long.rotateLeft(k1, 31);
        k1 *= C2;
        h1 ^= k1;
      default:
        break;
    }
    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = mix(h1);
    h2 = mix(h2);
    h1 += h2;
    h2 += h1;
    add(1, length, h2, h1);
  }

  /** Adds another set of rows (a chunk to its table). */
  void add(RowHash other) {
    add(other.rows, other.bytes, other.high, other.low);
  }

  private void add(long moreRows, long moreBytes, long h, long l) {
    rows += moreRows;
    bytes += moreBytes;
    long sum = low + l;
    long carry = Long.compareUnsigned(sum, low) < 0 ? 1 : 0;
    low = sum;
    high += h + carry;
  }

  /** Same rows, same text: count and sum agree. */
  boolean sameRowsAs(RowHash other) {
    return rows == other.rows && high == other.high && low == other.low;
  }

  private static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  @Override
  public String toString() {
    return rows + " rows, " + bytes + " bytes, hash " + Long.toHexString(high) + Long.toHexString(low);
  }
}

package dev.ferry.activities.copy;

import java.math.BigInteger;

/**
 * What a set of rows sums to: their count, the bytes streamed for them, and the exact sum of each
 * row's 64-bit checksum — the chunked verification's own, {@code hashtextextended(ROW(t.*)::text,
 * 0)} (see {@code ChunkChecksum}), under the same session settings. The source computes it for
 * each row as it streams (an extra column of the copy's query, taken off before the row goes to
 * the target); the target computes it over the rows it holds when the table is checked. The sum
 * does not depend on the order of the rows and changes with any changed, missing, extra or
 * duplicated row; sums of parts add up to the sum of the whole.
 *
 * <p>Kept as a 128-bit two's complement integer ({@code high}, {@code low}), which no sum of
 * fewer than 2^64 rows overflows.
 */
final class RowHash {
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

  /** The target's count and {@code sum(...)} (a numeric) of the same checksum. */
  static RowHash of(long rows, java.math.BigDecimal sum) {
    BigInteger value = sum.toBigIntegerExact();
    return new RowHash(rows, 0, value.shiftRight(64).longValue(), value.longValue());
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

  /** Adds one row: its checksum, and the bytes it took on the way to the target. */
  void addRow(long checksum, int length) {
    add(1, length, checksum < 0 ? -1 : 0, checksum);
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

  /** Same rows: count and sum agree (the bytes are the stream's alone). */
  boolean sameRowsAs(RowHash other) {
    return rows == other.rows && high == other.high && low == other.low;
  }

  BigInteger sum() {
    return BigInteger.valueOf(high).shiftLeft(64).add(new BigInteger(Long.toUnsignedString(low)));
  }

  @Override
  public String toString() {
    return rows + " rows, sum " + sum();
  }
}

package dev.ferry.activities.copy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Turns a row as {@code COPY … TO STDOUT} writes it (text format: fields separated by tabs,
 * {@code \N} for NULL, backslash escapes) into the text {@code ROW(t.*)::text} gives for the same
 * row — PostgreSQL's {@code record_out}: fields in parentheses, separated by commas, NULL as
 * nothing, a value quoted when it is empty or holds a double quote, backslash, parenthesis, comma
 * or white space, with double quotes and backslashes doubled inside the quotes. The worker hashes
 * this for each row it streams; the target hashes {@code ROW(t.*)::text} of each row it holds
 * (the verification's checksum), so neither side renders a row twice. A reading that went wrong
 * makes the sums differ: the check fails, it never passes.
 *
 * <p>Each byte of a line is looked at once, eight at a time where nothing special is near (a
 * word-wide test for the bytes that matter): this loop runs for every byte the copy streams.
 */
final class RecordText {
  private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private byte[] out = new byte[1024];
  private int length;
  /** Where the field the last {@link #quoted} or {@link #escaped} wrote ended (its tab, or the line's end). */
  private int fieldEnd;

  /**
   * The record text of {@code length} bytes of a COPY line (without its newline) of a table with
   * {@code columns} columns, in a buffer this object reuses: valid until the next call.
   */
  byte[] of(byte[] line, int length, int columns) {
    int o = 0;
    ensure(2 * length + 3 * columns + 2);
    out[o++] = '(';
    int start = 0;
    for (int col = 0; col < columns; col++) {
      if (col > 0) {
        out[o++] = ',';
      }
      int i = plainUpTo(line, start, length);
      if (i == length || line[i] == '\t') {
        if (i > start) {
          // Nothing to quote or decode: most fields.
          System.arraycopy(line, start, out, o, i - start);
          o += i - start;
        } else {
          // record_out quotes an empty string.
          out[o++] = '"';
          out[o++] = '"';
        }
        start = i + 1;
      } else if (line[i] != '\\') {
        o = quoted(line, start, i, length, o);
        start = fieldEnd + 1;
      } else if (i == start && i + 1 < length && line[i + 1] == 'N' && (i + 2 == length || line[i + 2] == '\t')) {
        // NULL: nothing between the commas.
        start = i + 3;
      } else {
        o = escaped(line, start, length, o);
        start = fieldEnd + 1;
      }
    }
    out[o++] = ')';
    this.length = o;
    return out;
  }

  /** How many bytes of the last {@link #of} are the record text. */
  int length() {
    return length;
  }

  /**
   * Bytes that make a field slow or end it: a COPY escape (backslash), the field separator (tab),
   * or a byte that makes {@code record_out} quote the value (double quote, parenthesis, comma,
   * white space). A field without any is copied as it is; most are.
   */
  private static final boolean[] SPECIAL = new boolean[256];

  static {
    for (char c : new char[] {'\\', '"', '(', ')', ',', ' ', '\t', '\n', 0x0b, '\f', '\r'}) {
      SPECIAL[c] = true;
    }
  }

  /** The first special byte of {@code line} from {@code from}, or {@code to}. */
  static int plainUpTo(byte[] line, int from, int to) {
    int i = from;
    for (; i + 8 <= to; i += 8) {
      if (mayHoldSpecial((long) LONG.get(line, i))) {
        for (int j = i; j < i + 8; j++) {
          if (SPECIAL[line[j] & 0xff]) {
            return j;
          }
        }
      }
    }
    for (; i < to; i++) {
      if (SPECIAL[line[i] & 0xff]) {
        return i;
      }
    }
    return to;
  }

  /**
   * Whether any of eight bytes may be special: one below {@code 0x21} (tab, newline, the other
   * white space, and control bytes, which are not special but rare), or a double quote,
   * parenthesis, comma or backslash. Exact when false.
   */
  private static boolean mayHoldSpecial(long x) {
    long below = (x - ONES * 0x21) & ~x;
    return ((below | zeroByte(x ^ (ONES * '"')) | zeroByte(x ^ (ONES * '(')) | zeroByte(x ^ (ONES * ')'))
            | zeroByte(x ^ (ONES * ',')) | zeroByte(x ^ (ONES * '\\')))
            & HIGHS)
        != 0;
  }

  /** A high bit set where a byte of {@code v} may be zero (exact whether any is). */
  private static long zeroByte(long v) {
    return (v - ONES) & ~v;
  }

  /** Whether any of eight bytes may be a double quote, backslash or tab. Exact when false. */
  private static boolean mayEndRun(long x) {
    return ((zeroByte(x ^ (ONES * '"')) | zeroByte(x ^ (ONES * '\\')) | zeroByte(x ^ (ONES * '\t'))) & HIGHS) != 0;
  }

  /** The first double quote, backslash or tab of {@code line} from {@code from}, or {@code to}. */
  private static int runUpTo(byte[] line, int from, int to) {
    int i = from;
    for (; i + 8 <= to; i += 8) {
      if (mayEndRun((long) LONG.get(line, i))) {
        for (int j = i; j < i + 8; j++) {
          byte b = line[j];
          if (b == '"' || b == '\\' || b == '\t') {
            return j;
          }
        }
      }
    }
    for (; i < to; i++) {
      byte b = line[i];
      if (b == '"' || b == '\\' || b == '\t') {
        return i;
      }
    }
    return to;
  }

  /**
   * A value whose first special byte, at {@code first}, is not an escape nor its end: record_out
   * quotes it whatever follows. Runs of bytes that need nothing are copied whole; only double
   * quotes and escapes (decoded, a quote or backslash doubled) are written byte by byte. The
   * values most rows hold (text with spaces, json, blank-padded chars) take this way. Sets
   * {@link #fieldEnd}.
   */
  private int quoted(byte[] line, int start, int first, int length, int o) {
    out[o++] = '"';
    int run = start;
    int j = first;
    while (true) {
      j = runUpTo(line, j, length);
      System.arraycopy(line, run, out, o, j - run);
      o += j - run;
      if (j == length || line[j] == '\t') {
        break;
      }
      byte b = line[j];
      if (b == '\\' && j + 1 < length && line[j + 1] != '\t') {
        j++;
        b = unescape(line[j]);
      }
      if (b == '"' || b == '\\') {
        out[o++] = b;
      }
      out[o++] = b;
      run = ++j;
    }
    fieldEnd = j;
    out[o++] = '"';
    return o;
  }

  /**
   * A value that starts its special bytes with a COPY escape: decoded, quotes and backslashes
   * doubled, in one pass; any byte that brought it here makes record_out quote the value, but for
   * a backspace ({@code \b}) alone. Sets {@link #fieldEnd}.
   */
  private int escaped(byte[] line, int start, int length, int o) {
    int begin = o;
    out[o++] = '"';
    boolean quote = false;
    int j = start;
    for (; j < length && line[j] != '\t'; j++) {
      byte b = line[j];
      if (b == '\\' && j + 1 < length && line[j + 1] != '\t') {
        j++;
        b = unescape(line[j]);
      }
      if (b == '"' || b == '\\') {
        out[o++] = b;
        quote = true;
      } else if (b == '(' || b == ')' || b == ',' || b == ' ' || (b >= 0x09 && b <= 0x0d)) {
        quote = true;
      }
      out[o++] = b;
    }
    fieldEnd = j;
    if (quote) {
      out[o++] = '"';
      return o;
    }
    // Nothing to quote after all (backspaces): the value as it is, without the opening quote.
    System.arraycopy(out, begin + 1, out, begin, o - begin - 1);
    return o - 1;
  }

  /** The byte a COPY escape {@code \x} stands for. */
  private static byte unescape(byte x) {
    return switch (x) {
      case 'b' -> 0x08;
      case 'f' -> 0x0c;
      case 'n' -> 0x0a;
      case 'r' -> 0x0d;
      case 't' -> 0x09;
      case 'v' -> 0x0b;
      default -> x;
    };
  }

  private void ensure(int size) {
    if (out.length < size) {
      out = new byte[Math.max(size, 2 * out.length)];
    }
  }
}

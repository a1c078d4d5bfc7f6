package dev.ferry.activities.copy;

/**
 * Turns a row as {@code COPY … TO STDOUT} writes it (text format: fields separated by tabs,
 * {@code \N} for NULL, backslash escapes) into the text {@code ROW(t.*)::text} gives for the same
 * row — PostgreSQL's {@code record_out}: fields in parentheses, separated by commas, NULL as
 * nothing, a value quoted when it is empty or holds a double quote, backslash, parenthesis, comma
 * or white space, with double quotes and backslashes doubled inside the quotes. The worker hashes
 * this for each row it streams; the target hashes {@code ROW(t.*)::text} of each row it holds
 * (the verification's checksum), so neither side renders a row twice. A reading that went wrong
 * makes the sums differ: the check fails, it never passes.
 */
final class RecordText {
  private byte[] out = new byte[1024];

  /**
   * The record text of {@code length} bytes of a COPY line (without its newline) of a table with
   * {@code columns} columns, in a buffer this object reuses: valid until the next call.
   */
  byte[] of(byte[] line, int length, int columns) {
    int o = 0;
    ensure(2 * length + 3 * columns + 2);
    out[o++] = '(';
    if (columns > 0) {
      int start = 0;
      for (int col = 0; col < columns; col++) {
        int end = start;
        while (end < length && line[end] != '\t') {
          end++;
        }
        if (col > 0) {
          out[o++] = ',';
        }
        if (!(end - start == 2 && line[start] == '\\' && line[start + 1] == 'N')) {
          o = value(line, start, end, o);
        }
        start = end + 1;
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

  private int length;

  /**
   * Bytes that make a field slow: a COPY escape (backslash) or a byte that makes {@code
   * record_out} quote the value (double quote, parenthesis, comma, white space). A field without
   * any is copied as it is; most are.
   */
  private static final boolean[] SPECIAL = new boolean[256];

  static {
    for (char c : new char[] {'\\', '"', '(', ')', ',', ' ', '\t', '\n', 0x0b, '\f', '\r'}) {
      SPECIAL[c] = true;
    }
  }

  /** Writes one field as {@code record_out} would, decoding its COPY escapes first when it has any. */
  private int value(byte[] line, int start, int end, int o) {
    int i = start;
    while (i < end && !SPECIAL[line[i] & 0xff]) {
      i++;
    }
    if (i == end && end > start) {
      System.arraycopy(line, start, out, o, end - start);
      return o + end - start;
    }
    if (i < end && line[i] != '\\') {
      return quoted(line, start, i, end, o);
    }
    // Quoted, decoding COPY's escapes and doubling quotes and backslashes in one pass: any byte
    // that brought it here makes record_out quote the value, but for a backspace (\b) alone.
    int begin = o;
    out[o++] = '"';
    boolean quote = end == start;
    for (int j = start; j < end; j++) {
      byte b = line[j];
      if (b == '\\' && j + 1 < end) {
        j++;
        b =
            switch (line[j]) {
              case 'b' -> 0x08;
              case 'f' -> 0x0c;
              case 'n' -> 0x0a;
              case 'r' -> 0x0d;
              case 't' -> 0x09;
              case 'v' -> 0x0b;
              default -> line[j];
            };
      }
      if (b == '"' || b == '\\') {
        out[o++] = b;
        quote = true;
      } else if (b == '(' || b == ')' || b == ',' || b == ' ' || (b >= 0x09 && b <= 0x0d)) {
        quote = true;
      }
      out[o++] = b;
    }
    if (quote) {
      out[o++] = '"';
      return o;
    }
    // Nothing to quote after all (backspaces): the value as it is, without the opening quote.
    System.arraycopy(out, begin + 1, out, begin, o - begin - 1);
    return o - 1;
  }

  /**
   * A value whose first special byte, at {@code first}, is not an escape: record_out quotes it
   * whatever follows. Runs of bytes that need nothing are copied whole; only double quotes and
   * escapes (decoded, a quote or backslash doubled) are written byte by byte. The values most
   * rows hold (text with spaces, json, blank-padded chars) take this way.
   */
  private int quoted(byte[] line, int start, int first, int end, int o) {
    out[o++] = '"';
    int run = start;
    for (int j = first; j < end; j++) {
      byte b = line[j];
      if (b != '"' && b != '\\') {
        continue;
      }
      System.arraycopy(line, run, out, o, j - run);
      o += j - run;
      if (b == '\\' && j + 1 < end) {
        j++;
        b =
            switch (line[j]) {
              case 'b' -> 0x08;
              case 'f' -> 0x0c;
              case 'n' -> 0x0a;
              case 'r' -> 0x0d;
              case 't' -> 0x09;
              case 'v' -> 0x0b;
              default -> line[j];
            };
      }
      if (b == '"' || b == '\\') {
        out[o++] = b;
      }
      out[o++] = b;
      run = j + 1;
    }
    System.arraycopy(line, run, out, o, end - run);
    o += end - run;
    out[o++] = '"';
    return o;
  }

  private void ensure(int size) {
    if (out.length < size) {
      out = new byte[Math.max(size, 2 * out.length)];
    }
  }
}

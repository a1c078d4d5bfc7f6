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
  private byte[] field = new byte[256];

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

  /** Decodes one field's COPY escapes, then writes it as {@code record_out} would. */
  private int value(byte[] line, int start, int end, int o) {
    if (field.length < end - start) {
      field = new byte[Math.max(end - start, 2 * field.length)];
    }
    int n = 0;
    boolean quote = false;
    for (int i = start; i < end; i++) {
      byte b = line[i];
      if (b == '\\' && i + 1 < end) {
        i++;
        b =
            switch (line[i]) {
              case 'b' -> 0x08;
              case 'f' -> 0x0c;
              case 'n' -> 0x0a;
              case 'r' -> 0x0d;
              case 't' -> 0x09;
              case 'v' -> 0x0b;
              default -> line[i];
            };
      }
      field[n++] = b;
      quote |= b == '"' || b == '\\' || b == '(' || b == ')' || b == ',' || b == ' ' || (b >= 0x09 && b <= 0x0d);
    }
    if (!quote && n > 0) {
      System.arraycopy(field, 0, out, o, n);
      return o + n;
    }
    out[o++] = '"';
    for (int i = 0; i < n; i++) {
      byte b = field[i];
      if (b == '"' || b == '\\') {
        out[o++] = b;
      }
      out[o++] = b;
    }
    out[o++] = '"';
    return o;
  }

  private void ensure(int size) {
    if (out.length < size) {
      out = new byte[Math.max(size, 2 * out.length)];
    }
  }
}

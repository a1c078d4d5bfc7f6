package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.postgres.TestCluster;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The worker's hash of a row's text is the server's {@code hashtextextended(text, 0)}, bit for bit. */
class TextHashTest {
  @Test
  void everyLengthAndByte_hashesAsTheServerDoes() throws Exception {
    List<String> texts = new ArrayList<>(List.of("", "a", "ab", "abc", "1\t2\t\\N", "é", "日本語のテキスト", "\\\\x00ff"));
    Random random = new Random(42);
    for (int length = 0; length < 80; length++) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < length; i++) {
        b.appendCodePoint(random.nextInt(10) == 0 ? 0x80 + random.nextInt(0x2000) : 0x20 + random.nextInt(0x5f));
      }
      texts.add(b.toString());
    }
    try (Connection c = TestCluster.SOURCE.connect("postgres");
        PreparedStatement ps = c.prepareStatement("SELECT hashtextextended(?, 0)")) {
      for (String text : texts) {
        ps.setString(1, text);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
          byte[] padded = new byte[bytes.length + 3];
          System.arraycopy(bytes, 0, padded, 2, bytes.length);
          assertThat(TextHash.hash(bytes, 0, bytes.length)).as(text).isEqualTo(rs.getLong(1));
          assertThat(TextHash.hash(padded, 2, bytes.length)).as("at an offset: " + text).isEqualTo(rs.getLong(1));
        }
      }
    }
  }
}

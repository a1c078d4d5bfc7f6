package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * The row text the worker rebuilds from each streamed COPY line is the one the server renders
 * for {@code ROW(t.*)::text}: for every row of every table of the tricky fixture, its extras, and
 * a table of values chosen to need every quoting and escaping rule, the worker's checksum of a
 * row equals the server's.
 */
class RecordTextTest {
  static MigrationDatabases tricky;

  static final String[] VALUES = {
    "CREATE TYPE public.pair AS (left_side text, right_side int)",
    "CREATE TABLE public.quoting (id int PRIMARY KEY, t text, arr text[], j jsonb, p public.pair, b bool, c char(5),"
        + " v varchar, f float8, e text)",
    "INSERT INTO public.quoting VALUES"
        + " (1, '', '{}', '{}', ROW(NULL, NULL), true, 'a', ' lead', 'NaN', 'x'),"
        + " (2, 'has \"quotes\" and \\\\ backslash', ARRAY['a,b', 'c\"d', 'e\\\\f', NULL, ''], '{\"k\": \"v \\\" q\"}',"
        + "   ROW('(paren), comma', 3), false, NULL, E'tab\\there', '-Infinity', E'\\\\N'),"
        + " (3, E'new\\nline\\rcr\\fff\\bbs\\013vt', NULL, 'null', NULL, NULL, 'abcde', 'trail ', 1e-300, '\\N'),"
        + " (4, 'plain', ARRAY['x'], '[1, 2.50, \"três\"]', ROW('', 0), true, '', '', 0.1, 'ünïcödé ☃'),"
        // Quoted from a plain special byte on, with escapes and quotes after it; a backspace alone.
        + " (5, E'a b\\bc\\\\d\"e\\tf', ARRAY['x y', '\"'], '{\"a b\": \"c\\\"d\"}', ROW(' ', 1), true, ' \"',"
        + "   E'back\\bspace', 2.5, E',\\\\')",
    // Every byte that matters at every place of an eight-byte word, and runs long and short
    // around it: the word-wide scans must find each, and find nothing where there is nothing.
    "CREATE TABLE public.boundaries (id int PRIMARY KEY, a text, b text, c text)",
    "INSERT INTO public.boundaries SELECT i,"
        + " repeat('x', i % 19) || (ARRAY[' ', '\"', '(', ')', ',', E'\\\\', E'\\t', E'\\n', E'\\r', E'\\f', E'\\013',"
        + "   E'\\b', chr(1), 'y', 'é'])[1 + i % 15] || repeat('z', i % 23),"
        + " repeat('w', i % 17),"
        + " CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN '' WHEN i % 11 = 0 THEN '\\N'"
        + "   ELSE repeat('v', i % 13) || E'\\\\' || repeat('u', i % 9) || ' \"' || repeat('t', i % 10) END"
        + " FROM generate_series(1, 3000) i",
  };

  @BeforeAll
  static void create() throws Exception {
    tricky = MigrationDatabases.tricky();
    TestCluster.SOURCE.execute(tricky.source, StreamCopyTest.EXTRAS);
    TestCluster.SOURCE.execute(tricky.source, VALUES);
  }

  @AfterAll
  static void drop() throws Exception {
    tricky.close();
  }

  @Test
  void everyRowOfEveryTable_rebuildsToTheServersRowText() throws Exception {
    int rows = 0;
    try (Connection c = TestCluster.SOURCE.connect(tricky.source)) {
      CopySessions.prepareSource(c);
      for (CopyPlanner.PlannedTable t : CopyPlanner.tables(c)) {
        String columns = String.join(", ", t.columns());
        List<Long> expected = new ArrayList<>();
        try (Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT " + TableCopier.ROW_CHECKSUM + " FROM ONLY " + t.table().sql() + " ferry_row ORDER BY ctid")) {
          while (rs.next()) {
            expected.add(rs.getLong(1));
          }
        }
        CopyOut out =
            c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyOut("COPY (SELECT " + columns + " FROM ONLY " + t.table().sql() + " ORDER BY ctid) TO STDOUT");
        RecordText text = new RecordText();
        int i = 0;
        byte[] row;
        while ((row = out.readFromCopy()) != null) {
          byte[] record = text.of(row, row.length - 1, t.columns().size());
          assertThat(TextHash.hash(record, 0, text.length()))
              .as(t.table().display() + " row " + i + ": " + new String(record, 0, text.length(), java.nio.charset.StandardCharsets.UTF_8))
              .isEqualTo(expected.get(i));
          i++;
        }
        assertThat(i).as(t.table().display()).isEqualTo(expected.size());
        rows += i;
      }
    }
    assertThat(rows).isGreaterThan(1_000_000);
  }

  @Test
  void aRowWithNoColumns_isAnEmptyRecord() {
    RecordText text = new RecordText();
    byte[] record = text.of(new byte[0], 0, 0);
    assertThat(new String(record, 0, text.length(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("()");
    record = text.of(new byte[0], 0, 1);
    assertThat(new String(record, 0, text.length(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("(\"\")");
  }
}

package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.model.Progress;
import dev.ferry.model.database.ChunkMismatch;
import dev.ferry.model.database.TableComparison;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyCheckpoint;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** What a verification heartbeats stays the same size whatever the number of tables. */
class VerificationTallyTest {
  static final int TABLES = 10_000;
  static final List<String> NAMES =
      IntStream.range(0, TABLES).mapToObj(i -> String.format("tenant_%04d.table_%02d", i / 20 + 1, i % 20)).sorted().toList();

  static TableComparison matching(String table) {
    return new TableComparison(table, 3, 3, "primary key range", 1, 0, List.of(), true);
  }

  static TableComparison differing(String table) {
    return new TableComparison(table, 3, 2, "primary key range", 1, 1, List.of(new ChunkMismatch("all rows", 3, 2)), false);
  }

  /** Bytes of a value as Temporal's JSON payload. */
  static int payloadBytes(Object value) {
    return DefaultDataConverter.newDefaultInstance().toPayload(value).orElseThrow().getSerializedSize();
  }

  @Test
  void tenThousandTablesDone_checkpointIsAFewKilobytes_andNamesOnlyTheFirstFiftyThatDiffer() {
    VerificationTally tally = new VerificationTally(NAMES, TABLES, null);
    List<TableComparison> all = new ArrayList<>();
    for (int i = 0; i < TABLES; i++) {
      all.add(i % 100 == 7 ? differing(NAMES.get(i)) : matching(NAMES.get(i)));
    }
    all.forEach(tally::finish);
    tally.count(tally.takePending());

    Progress progress = tally.progress();
    // 10,000 tables, every one done: 1,250 bytes of bitmap (base64: 1,668) and 50 named tables.
    assertThat(payloadBytes(progress)).isLessThan(16_000);
    VerifyCheckpoint checkpoint = progress.checkpoint();
    assertThat(checkpoint.done()).hasSize(VerificationReport.MAX_LISTED).allSatisfy(t -> assertThat(t.matches()).isFalse());
    assertThat(checkpoint.done().get(0).table()).isEqualTo(NAMES.get(7));
    assertThat(checkpoint.totals().tables()).isEqualTo(TABLES);
    assertThat(checkpoint.totals().tablesDiffering()).isEqualTo(100);
    assertThat(checkpoint.totals().rows()).isEqualTo(3L * TABLES);
    assertThat(progress.tablesDone()).isEqualTo(TABLES);
    // What the same checkpoint was before the bitmap: every table listed, over a megabyte.
    assertThat(payloadBytes(new VerifyCheckpoint(all, List.of()))).isGreaterThan(1_000_000);
  }

  @Test
  void resumedFromItsCheckpoint_knowsWhichTablesAreDone_andKeepsTheirCounts() {
    VerificationTally first = new VerificationTally(NAMES, TABLES, null);
    for (int i = 0; i < 4_000; i++) {
      first.finish(i == 10 ? differing(NAMES.get(i)) : matching(NAMES.get(i)));
    }
    first.finish(matching(NAMES.get(9_999)));
    // Finished but not yet recorded: a checkpoint must not claim it.
    List<TableComparison> recorded = first.takePending();
    first.count(recorded);
    first.finish(matching(NAMES.get(5_000)));
    VerifyCheckpoint checkpoint = first.checkpoint();
    // 4,001 tables done, one differing: the checkpoint keeps that one whole, the rest as bits.
    assertThat(checkpoint.done()).extracting(TableComparison::table).containsExactly(NAMES.get(10));
    assertThat(payloadBytes(checkpoint)).isLessThan(4_000);

    VerificationTally resumed = new VerificationTally(NAMES, TABLES, checkpoint);

    assertThat(resumed.isDone(NAMES.get(0))).isTrue();
    assertThat(resumed.isDone(NAMES.get(3_999))).isTrue();
    assertThat(resumed.isDone(NAMES.get(9_999))).isTrue();
    assertThat(resumed.isDone(NAMES.get(4_000))).isFalse();
    assertThat(resumed.isDone(NAMES.get(5_000))).as("finished, never recorded: compared again").isFalse();
    assertThat(resumed.tablesDone()).isEqualTo(4_001);
    resumed.finish(matching(NAMES.get(5_000)));
    resumed.count(resumed.takePending());
    VerificationReport.Totals totals = resumed.totals(0, 0, 0, 0, null);
    assertThat(totals.tables()).isEqualTo(4_002);
    assertThat(totals.tablesDiffering()).isEqualTo(1);
    assertThat(resumed.named()).extracting(TableComparison::table).containsExactly(NAMES.get(10));
  }

  @Test
  void aCheckpointOverAnotherListOfTables_isSetAside_everyTableIsComparedAgain() {
    VerificationTally first = new VerificationTally(NAMES, TABLES, null);
    first.finish(matching(NAMES.get(0)));
    first.count(first.takePending());
    List<String> fewer = NAMES.subList(1, TABLES);

    VerifyCheckpoint checkpoint = first.checkpoint();
    // The list is identified by its count and a digest, not by 10,000 names.
    assertThat(checkpoint.tableList()).startsWith("10000:").hasSizeLessThan(24);

    VerificationTally resumed = new VerificationTally(fewer, fewer.size(), checkpoint);

    assertThat(resumed.tablesDone()).isZero();
    assertThat(resumed.totals(0, 0, 0, 0, null).tables()).isZero();
  }

  @Test
  void aCheckpointFromBeforeTheBitmap_listsEveryTableDone_andIsResumedFrom() {
    List<String> five = NAMES.subList(0, 5);
    VerifyCheckpoint old = new VerifyCheckpoint(List.of(matching(five.get(0)), differing(five.get(3))), List.of());

    VerificationTally resumed = new VerificationTally(five, 5, old);

    assertThat(resumed.isDone(five.get(0))).isTrue();
    assertThat(resumed.isDone(five.get(3))).isTrue();
    assertThat(resumed.isDone(five.get(1))).isFalse();
    // Five tables: the report names every one, matching or not.
    assertThat(resumed.named()).hasSize(2);
    assertThat(resumed.totals(0, 0, 0, 0, null).tablesDiffering()).isEqualTo(1);
    // From then on it checkpoints as a bitmap, not a growing list.
    VerifyCheckpoint next = resumed.checkpoint();
    assertThat(next.compared()).isNotNull();
    assertThat(next.tableList()).isEqualTo(VerificationTally.fingerprint(five));
  }
}

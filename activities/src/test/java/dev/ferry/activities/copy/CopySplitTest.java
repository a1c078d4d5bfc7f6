package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.copy.CopyPlanner.PlannedTable;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which tables the plan splits into key ranges: only where copying them whole would hold the copy up. */
class CopySplitTest {
  private static final long GB = 1L << 30;
  private static final long MB = 1L << 20;

  @Test
  void asManyBigTablesAsCopiers_andNoneFarAboveItsShare_copyWhole() {
    // The 5 GB bench: the busiest copier at 1.2 × its share.
    List<PlannedTable> tables = List.of(table("accounts", 3 * GB, "aid"), table("wide", 2 * GB, "id"), table("branches", MB, "bid"));

    assertThat(CopyPlanner.toSplit(tables, 2, CopyTuning.DEFAULT)).isEmpty();
  }

  @Test
  void oneTableThatWouldHoldTheCopyUp_isSplit() {
    PlannedTable big = table("events", 3 * GB / 2, "id");

    assertThat(CopyPlanner.toSplit(List.of(big, table("users", 500 * MB, "id")), 2, CopyTuning.DEFAULT))
        .containsExactly(big);
    assertThat(CopyPlanner.toSplit(List.of(big), 4, CopyTuning.DEFAULT)).containsExactly(big);
  }

  @Test
  void oneHugeTableAmongBigOnes_splitsEveryBigTableWithAKey() {
    PlannedTable huge = table("events", 10 * GB, "id");
    PlannedTable big = table("orders", 11 * GB / 10, "id");
    PlannedTable keyless = table("audit", 11 * GB / 10, null);

    assertThat(CopyPlanner.toSplit(List.of(huge, big, keyless), 2, CopyTuning.DEFAULT)).containsExactly(huge, big);
  }

  @Test
  void oneCopier_splitsNothing() {
    assertThat(CopyPlanner.toSplit(List.of(table("events", 10 * GB, "id")), 1, CopyTuning.DEFAULT)).isEmpty();
  }

  @Test
  void tablesUnderTheSplitSize_areNeverSplit() {
    assertThat(CopyPlanner.toSplit(List.of(table("events", 900 * MB, "id"), table("users", MB, "id")), 2, CopyTuning.DEFAULT))
        .isEmpty();
  }

  private static PlannedTable table(String name, long bytes, String key) {
    return new PlannedTable(name.hashCode(), "public", name, List.of("id"), List.of(), key, bytes);
  }
}

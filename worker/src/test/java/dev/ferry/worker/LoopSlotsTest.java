package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** FERRY_MAX_LOOPS: how many apply loops and pre-verifications one worker runs at once. */
class LoopSlotsTest {
  @Test
  void unset_isSixteen() {
    assertThat(FerryWorker.loopSlots(Map.of())).isEqualTo(16);
    assertThat(FerryWorker.loopSlots(Map.of("FERRY_MAX_LOOPS", " "))).isEqualTo(16);
  }

  @Test
  void aWholeNumberFromOneToAThousand_isTaken() {
    assertThat(FerryWorker.loopSlots(Map.of("FERRY_MAX_LOOPS", "1"))).isEqualTo(1);
    assertThat(FerryWorker.loopSlots(Map.of("FERRY_MAX_LOOPS", "1000"))).isEqualTo(1000);
  }

  @Test
  void anythingElse_isRefusedNamingTheVariable() {
    for (String bad : new String[] {"0", "1001", "-4", "2.5", "many"}) {
      assertThatThrownBy(() -> FerryWorker.loopSlots(Map.of("FERRY_MAX_LOOPS", bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("FERRY_MAX_LOOPS must be a whole number from 1 to 1000, such as 16");
    }
  }
}

package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.activities.postgres.PreverifyActivitiesImpl;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** FERRY_PREVERIFY_SHARE: how much of the databases' time the pre-verification may take. */
class PreverifySettingsTest {
  @Test
  void unset_isTheDefaultTenthOfTheClock() {
    assertThat(FerryWorker.preverifySettings(Map.of())).isEqualTo(PreverifyActivitiesImpl.Settings.DEFAULT);
    assertThat(PreverifyActivitiesImpl.Settings.DEFAULT.share()).isEqualTo(0.1);
  }

  @Test
  void aShareBetweenAHundredthAndOne_isTaken() {
    assertThat(FerryWorker.preverifySettings(Map.of("FERRY_PREVERIFY_SHARE", "0.5")).share()).isEqualTo(0.5);
    assertThat(FerryWorker.preverifySettings(Map.of("FERRY_PREVERIFY_SHARE", "1")).share()).isEqualTo(1.0);
  }

  @Test
  void anythingElse_isRefusedNamingTheVariable() {
    for (String bad : new String[] {"0", "1.5", "-0.1", "ten percent", "NaN"}) {
      assertThatThrownBy(() -> FerryWorker.preverifySettings(Map.of("FERRY_PREVERIFY_SHARE", bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("FERRY_PREVERIFY_SHARE must be a number from 0.01 to 1, such as 0.1");
    }
  }
}

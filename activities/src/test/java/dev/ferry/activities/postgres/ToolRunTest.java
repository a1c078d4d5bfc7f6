package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Running pg_dump and pg_restore: the activity heartbeats from the tool's start. */
class ToolRunTest {
  @Test
  void aTool_isTickedAsItStarts_notOnlyATickLater() throws Exception {
    AtomicInteger ticks = new AtomicInteger();
    List<String> lines = new ArrayList<>();

    ToolRun.Outcome outcome = ToolRun.run(List.of("sh", "-c", "echo started"), Map.of(), lines::add, ticks::incrementAndGet);

    // It ended well inside the first tick's interval, and was ticked all the same: an activity
    // heartbeats as soon as its tool runs.
    assertThat(outcome.succeeded()).isTrue();
    assertThat(lines).containsExactly("started");
    assertThat(ticks.get()).isPositive();
  }
}

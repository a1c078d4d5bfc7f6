package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Running pg_dump and pg_restore: the activity heartbeats from the tool's start, and fails as the tool did. */
class ToolRunTest {
  private static final Endpoint TARGET =
      new Endpoint("target", "env:SHOP_TARGET_URL", PgUrl.parse("postgres://app:s3cret@db.example.com:5432/shop"));

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

  @Test
  void aToolThatWillNotStart_failsAsMissing_namingIt() {
    assertThatThrownBy(
            () -> ToolRun.runOrFail(
                "vacuumdb --analyze-only", TARGET, Errors.RESTORE_FAILED, List.of("/nonexistent/bin/vacuumdb-15"), Map.of(), l -> {}, () -> {}))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.TOOL_MISSING);
              assertThat(f.isNonRetryable()).isTrue();
              // Named by the program it tried, not by the description.
              assertThat(f.getOriginalMessage()).startsWith("vacuumdb-15 could not start: ").contains("/nonexistent/bin/vacuumdb-15");
            });
  }

  @Test
  void aToolThatFails_failsAsItsOutputTells_retryableOrFinal_neverWithThePassword() {
    assertThatThrownBy(
            () -> ToolRun.runOrFail(
                "pg_restore", TARGET, Errors.RESTORE_FAILED,
                List.of("sh", "-c", "echo 'pg_restore: error: connection to server at \"db.example.com\" failed'; exit 1"), Map.of(),
                l -> {}, () -> {}))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.DATABASE_UNREACHABLE);
              assertThat(f.isNonRetryable()).isFalse();
              assertThat(f.getOriginalMessage()).startsWith("pg_restore failed on target").doesNotContain("s3cret");
            });
    assertThatThrownBy(
            () -> ToolRun.runOrFail(
                "pg_restore", TARGET, Errors.RESTORE_FAILED,
                List.of("sh", "-c", "echo 'pg_restore: error: could not execute query: ERROR:  type \"geometry\" does not exist'; exit 1"),
                Map.of(), l -> {}, () -> {}))
        .isInstanceOfSatisfying(
            ApplicationFailure.class,
            f -> {
              assertThat(f.getType()).isEqualTo(Errors.RESTORE_FAILED);
              assertThat(f.isNonRetryable()).isTrue();
              assertThat(f.getOriginalMessage()).contains("type \"geometry\" does not exist");
            });
  }
}

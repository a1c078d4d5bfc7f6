package dev.ferry.api.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.testing.TestLedger;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LedgerHealthCheckTest {
  @Test
  void healthyWhenTheLedgerAnswers_unhealthyWhenItIsDown() {
    try (TestLedger ledger = TestLedger.create()) {
      assertThat(new LedgerHealthCheck(ledger.ledger(), "test").execute().isHealthy()).isTrue();
    }
    RunLedger down = new RunLedger(LedgerDatabase.of("postgres://ferry:pw@127.0.0.1:1/ferry", Map.of()), new ObjectMapper());

    var result = new LedgerHealthCheck(down, "ferry@127.0.0.1:1/ferry").execute();

    assertThat(result.isHealthy()).isFalse();
    assertThat(result.getMessage()).startsWith("the ledger at ferry@127.0.0.1:1/ferry does not answer").doesNotContain("pw@");
  }
}

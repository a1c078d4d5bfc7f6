package dev.ferry.api.health;

import com.codahale.metrics.health.HealthCheck;
import dev.ferry.api.db.RunLedger;

/** Healthy when the run ledger answers a query within two seconds. */
public class LedgerHealthCheck extends HealthCheck {
  private final RunLedger ledger;
  private final String where;

  public LedgerHealthCheck(RunLedger ledger, String where) {
    this.ledger = ledger;
    this.where = where;
  }

  @Override
  protected Result check() {
    try {
      ledger.ping();
      return Result.healthy("the ledger at %s answers", where);
    } catch (Exception e) {
      return Result.unhealthy("the ledger at %s does not answer: %s", where, e.getMessage());
    }
  }
}

package dev.ferry.testing;

import dev.ferry.model.runbook.Runbook;
import dev.ferry.model.runbook.RunbookParser;

/** Runbooks for tests. */
public final class Runbooks {
  private Runbooks() {}

  public static final String SHOP_YAML =
      """
      app: shop
      strategy: single-phase
      source:
        herokuApp: shop-production
        databaseUrl: env:FERRY_SOURCE_URL
      target:
        databaseUrl: env:FERRY_TARGET_URL
      snapshot:
        jobs: 2
      gates:
        start:
          approvers: [arjun, beatriz]
          timeout: 24h
        decommission:
          approvers: [arjun, beatriz]
        rollback:
          approvers: [arjun, beatriz]
      """;

  /** The shop, moved with continuous sync; every gate lists its approvers. */
  public static final String SHOP_MULTI_PHASE_YAML =
      """
      app: shop
      strategy: multi-phase
      source:
        herokuApp: shop-production
        databaseUrl: env:FERRY_SOURCE_URL
      target:
        databaseUrl: env:FERRY_TARGET_URL
      sync:
        method: trigger
        maxLag: 30s
        catchUpTimeout: 2h
      fallbackWindow: 72h
      notifications:
        webhook: env:FERRY_WEBHOOK_URL
      gates:
        start:
          approvers: [arjun, beatriz]
        cutover:
          approvers: [arjun, beatriz]
          timeout: 4h
          remindAfter: 1h
        decommission:
          approvers: [arjun, beatriz]
        rollback:
          approvers: [arjun, beatriz]
      """;

  public static Runbook shopMultiPhase() {
    return RunbookParser.parse(SHOP_MULTI_PHASE_YAML);
  }

  public static Runbook shop() {
    return RunbookParser.parse(SHOP_YAML);
  }

  /** The shop runbook with the start gate's settings replaced. */
  public static Runbook shopWithStartGate(String gateYaml) {
    String yaml = SHOP_YAML.substring(0, SHOP_YAML.indexOf("gates:")) + "gates:\n  start:\n" + gateYaml.indent(4);
    return RunbookParser.parse(yaml);
  }
}

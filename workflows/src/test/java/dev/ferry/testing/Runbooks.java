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
        databaseUrl: env:SHOP_SOURCE_URL
      target:
        databaseUrl: env:SHOP_TARGET_URL
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
        databaseUrl: env:SHOP_SOURCE_URL
      target:
        databaseUrl: env:SHOP_TARGET_URL
      sync:
        method: trigger
        maxLag: 30s
        catchUpTimeout: 2h
      fallbackWindow: 72h
      notifications:
        webhook: env:SHOP_WEBHOOK_URL
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

  /** The cutover edge's sections, to append to a runbook: DNS, Heroku, config vars, RDS. */
  public static final String EDGE_YAML =
      """
      dns:
        hostedZoneId: Z0123456789ABCDEFGHIJ
        recordName: shop.example.com
        herokuTarget: shop-production.herokudns.com
        awsTarget: shop-alb-123.eu-west-1.elb.amazonaws.com
        steps:
          - {awsWeight: 10, dwell: 5m}
          - {awsWeight: 50, dwell: 5m}
          - {awsWeight: 100, dwell: 10m}
        smokeChecks:
          - {url: "https://shop-aws.example.com/health"}
      heroku:
        apiToken: env:HEROKU_API_KEY
        maintenanceMode: true
        scaleDownAtDecommission: true
      configVars:
        ssmPrefix: /shop/production
        rewrite:
          DATABASE_URL: ssm:/shop/DATABASE_URL
      rds:
        instanceId: shop-db
        restorePointBeforeCutover: true
      """;

  /** The single-phase shop with every provider of the cutover edge configured. */
  public static Runbook shopWithEdge() {
    return RunbookParser.parse(SHOP_YAML + EDGE_YAML);
  }

  /** The shop, copied with the streaming copy (the default method). */
  public static Runbook shop() {
    return RunbookParser.parse(SHOP_YAML);
  }

  /** The shop copied with pg_dump and pg_restore ({@code snapshot.method: dump}). */
  public static Runbook shopWithDump() {
    return RunbookParser.parse(SHOP_YAML.replace("  jobs: 2\n", "  jobs: 2\n  method: dump\n"));
  }

  /** The multi-phase shop whose trigger sync copies with pg_dump and pg_restore. */
  public static Runbook shopMultiPhaseWithDump() {
    return RunbookParser.parse(SHOP_MULTI_PHASE_YAML + "snapshot:\n  method: dump\n");
  }

  /** The shop runbook with the start gate's settings replaced. */
  public static Runbook shopWithStartGate(String gateYaml) {
    String yaml = SHOP_YAML.substring(0, SHOP_YAML.indexOf("gates:")) + "gates:\n  start:\n" + gateYaml.indent(4);
    return RunbookParser.parse(yaml);
  }
}

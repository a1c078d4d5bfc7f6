package dev.ferry.model.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.testing.Runbooks;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunbookParserTest {

  @Test
  void validYaml_parsesEveryField() {
    Runbook runbook = Runbooks.shop();

    assertThat(runbook.app()).isEqualTo("shop");
    assertThat(runbook.strategy()).isEqualTo(Strategy.SINGLE_PHASE);
    assertThat(runbook.source()).isEqualTo(new SourceSpec("shop-production", "env:SHOP_SOURCE_URL"));
    assertThat(runbook.target()).isEqualTo(new TargetSpec("env:SHOP_TARGET_URL"));
    assertThat(runbook.snapshot().jobs()).isEqualTo(2);
    assertThat(runbook.gate("start"))
        .isEqualTo(new GateSpec(List.of("arjun", "beatriz"), Duration.ofHours(24), false, null));
  }

  @Test
  void json_isAcceptedToo() {
    Runbook runbook =
        RunbookParser.parse(
            """
            {"app": "shop", "strategy": "single-phase",
             "source": {"databaseUrl": "ssm:/shop/HEROKU_DATABASE_URL"},
             "target": {"databaseUrl": "ssm:/shop/DATABASE_URL"}}
            """);

    assertThat(runbook.source().databaseUrl()).isEqualTo("ssm:/shop/HEROKU_DATABASE_URL");
    assertThat(runbook.snapshot()).isEqualTo(SnapshotSpec.DEFAULT);
    assertThat(runbook.gate("start")).isEqualTo(GateSpec.DEFAULT);
  }

  @Test
  void notYaml_isRefusedAsUnreadableWithTheLine() {
    RunbookInvalidException e = refused("app: shop\nsource: [unclosed\n");

    assertThat(e.unreadable()).isTrue();
    assertThat(e.getMessage()).startsWith("runbook is not valid YAML or JSON").contains("line");
  }

  @Test
  void unreadableYaml_neverQuotesTheRunbookBack() {
    RunbookInvalidException e = refused("app: shop\nsource: {databaseUrl: \"postgres://u:hunter2@db/shop\n");

    assertThat(e.unreadable()).isTrue();
    assertThat(e.getMessage()).contains("line").doesNotContain("hunter2");
    assertThat(e.errors()).allSatisfy(err -> assertThat(err.message()).doesNotContain("hunter2"));
  }

  @Test
  void emptyOrScalarDocument_isRefused() {
    assertThat(refused("").unreadable()).isTrue();
    assertThat(refused("just a string").unreadable()).isTrue();
  }

  @Test
  void missingSourceAndTarget_bothNamed() {
    RunbookInvalidException e = refused("app: shop\nstrategy: single-phase\n");

    assertThat(e.unreadable()).isFalse();
    assertThat(e.errors())
        .containsExactly(new FieldError("source", "is required"), new FieldError("target", "is required"));
  }

  @Test
  void everyProblemIsListed_notJustTheFirst() {
    RunbookInvalidException e =
        refused(
            """
            app: Shop_Prod
            strategy: big-bang
            source:
              databaseUrl: postgres://u:hunter2@db.example.com:5432/shop
              colour: blue
            target: {}
            snapshot:
              jobs: -3
            gates:
              start:
                approvers: [arjun, arjun]
                timeout: forever
                allowSelfApproval: "yes"
              launch: {}
            extra: 1
            """);

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder(
            "extra",
            "app",
            "strategy",
            "source.colour",
            "source.databaseUrl",
            "target.databaseUrl",
            "snapshot.jobs",
            "gates.start.approvers[1]",
            "gates.start.timeout",
            "gates.start.allowSelfApproval");
  }

  @Test
  void aLiteralDatabaseUrl_isRefusedWithoutEchoingThePassword() {
    RunbookInvalidException e =
        refused(Runbooks.SHOP_YAML.replace("env:SHOP_SOURCE_URL", "postgres://u:hunter2@db:5432/shop"));

    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("source.databaseUrl");
      assertThat(err.message()).contains("env:", "ssm:");
    });
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void snapshotMethod_defaultsToStream_acceptsDump_andRefusesAnythingElseByName() {
    assertThat(Runbooks.shop().snapshot().method()).isNull();
    assertThat(Runbooks.shop().snapshot().methodOrDefault()).isEqualTo(SnapshotSpec.STREAM);
    assertThat(RunbookParser.parse(Runbooks.SHOP_YAML.replace("  jobs: 2\n", "  jobs: 2\n  method: dump\n")).snapshot())
        .isEqualTo(new SnapshotSpec(2, SnapshotSpec.DUMP));
    assertThat(RunbookParser.parse(Runbooks.SHOP_YAML.replace("  jobs: 2\n", "  method: stream\n")).snapshot())
        .isEqualTo(new SnapshotSpec(null, SnapshotSpec.STREAM));

    RunbookInvalidException e = refused(Runbooks.SHOP_YAML.replace("  jobs: 2\n", "  jobs: 2\n  method: pgcopydb\n"));
    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("snapshot.method");
      assertThat(err.message()).contains("stream", "dump");
    });
  }

  @Test
  void snapshotMethod_onTheLogicalSyncMethod_isRefused_itsSubscriptionCopies() {
    String logical = Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical");
    assertThat(RunbookParser.parse(logical).snapshot().method()).isNull();
    assertThat(RunbookParser.parse(Runbooks.SHOP_MULTI_PHASE_YAML + "snapshot:\n  method: dump\n").snapshot().method())
        .isEqualTo(SnapshotSpec.DUMP);

    RunbookInvalidException e = refused(logical + "snapshot:\n  method: stream\n");
    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("snapshot.method");
      assertThat(err.message()).contains("sync.method logical", "subscription");
    });
  }

  @Test
  void ferrysOwnSettings_areRefusedInEveryReferenceField_byField_withoutAValue() {
    String runbook =
        Runbooks.SHOP_YAML
                .replace("env:SHOP_SOURCE_URL", "env:FERRY_LEDGER_URL")
                .replace("env:SHOP_TARGET_URL", "env:AWS_SECRET_ACCESS_KEY")
            + """
            heroku: {apiToken: env:TEMPORAL_API_KEY}
            configVars:
              ssmPrefix: /shop/production
              rewrite: {DATABASE_URL: env:ferry_payload_key}
            notifications: {webhook: env:PGPASSWORD}
            """;

    RunbookInvalidException e = refused(runbook);

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder(
            "source.databaseUrl", "target.databaseUrl", "heroku.apiToken", "configVars.rewrite.DATABASE_URL", "notifications.webhook");
    assertThat(e.errors()).allSatisfy(err -> assertThat(err.message()).contains("one of Ferry's own settings"));
  }

  @Test
  void ssmPaths_withDotOrEmptySegments_areRefused() {
    for (String path : List.of("ssm:/apps/../ferry/key", "ssm:/apps//x", "ssm:/apps/./x", "ssm:/apps/")) {
      RunbookInvalidException e = refused(Runbooks.SHOP_YAML.replace("env:SHOP_TARGET_URL", path));
      assertThat(e.errors()).as(path).extracting(FieldError::field).containsExactly("target.databaseUrl");
    }
  }

  @Test
  void sameReferenceOnBothSides_isRefused() {
    RunbookInvalidException e =
        refused(Runbooks.SHOP_YAML.replace("env:SHOP_TARGET_URL", "env:SHOP_SOURCE_URL"));

    assertThat(e.errors()).extracting(FieldError::field).containsExactly("target.databaseUrl");
  }

  @Test
  void multiPhase_needsASyncSection() {
    RunbookInvalidException e = refused(Runbooks.SHOP_YAML.replace("single-phase", "multi-phase"));

    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("sync");
      assertThat(err.message()).isEqualTo("is required");
    });
  }

  @Test
  void multiPhase_readsSyncFallbackWindowNotificationsAndReminders() {
    Runbook runbook = RunbookParser.parse(Runbooks.SHOP_MULTI_PHASE_YAML);

    assertThat(runbook.strategy()).isEqualTo(Strategy.MULTI_PHASE);
    assertThat(runbook.sync()).isEqualTo(new SyncSpec("trigger", Duration.ofSeconds(30), Duration.ofHours(2), null));
    assertThat(runbook.fallbackWindow()).isEqualTo(Duration.ofHours(72));
    assertThat(runbook.notifications().webhook()).isEqualTo("env:SHOP_WEBHOOK_URL");
    assertThat(runbook.gate("cutover").reminder()).isEqualTo(Duration.ofHours(1));
    assertThat(runbook.gate("start").reminder()).isEqualTo(Duration.ofHours(12));
  }

  @Test
  void badSyncFallbackNotificationsAndReminders_areEachNamed() {
    RunbookInvalidException e =
        refused(
            Runbooks.SHOP_MULTI_PHASE_YAML
                .replace("method: trigger", "method: bucardo")
                .replace("maxLag: 30s", "maxLag: -5s")
                .replace("fallbackWindow: 72h", "fallbackWindow: 90d")
                .replace("webhook: env:SHOP_WEBHOOK_URL", "webhook: http://hooks.example.com/x")
                .replace("remindAfter: 1h", "remindAfter: 5h"));

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder(
            "sync.method", "sync.maxLag", "fallbackWindow", "notifications.webhook", "gates.cutover.remindAfter");
    assertThat(e.errors()).filteredOn(err -> err.field().equals("gates.cutover.remindAfter")).singleElement()
        .satisfies(err -> assertThat(err.message()).contains("shorter than the gate's timeout (4h)"));
  }

  @Test
  void logicalSync_logsInAsAPerRunRoleUnlessTheRunbookAllowsTheSourceCredential() {
    String logical = Runbooks.SHOP_MULTI_PHASE_YAML.replace("method: trigger", "method: logical");

    assertThat(RunbookParser.parse(logical).sync().replicationRole()).isEqualTo(SyncSpec.PER_RUN_ROLE);
    assertThat(RunbookParser.parse(logical.replace("catchUpTimeout: 2h", "catchUpTimeout: 2h\n  replicationRole: source-credential"))
            .sync().replicationRole())
        .isEqualTo(SyncSpec.SOURCE_CREDENTIAL);
    assertThat(RunbookParser.parse(logical.replace("catchUpTimeout: 2h", "catchUpTimeout: 2h\n  replicationRole: per-run"))
            .sync().replicationRole())
        .isEqualTo(SyncSpec.PER_RUN_ROLE);
  }

  @Test
  void badReplicationRole_andOneForTheTriggerMethod_areNamedByField() {
    RunbookInvalidException bad =
        refused(
            Runbooks.SHOP_MULTI_PHASE_YAML
                .replace("method: trigger", "method: logical")
                .replace("catchUpTimeout: 2h", "catchUpTimeout: 2h\n  replicationRole: superuser"));
    RunbookInvalidException trigger =
        refused(Runbooks.SHOP_MULTI_PHASE_YAML.replace("catchUpTimeout: 2h", "catchUpTimeout: 2h\n  replicationRole: per-run"));

    assertThat(bad.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("sync.replicationRole");
      assertThat(err.message()).contains("per-run", "source-credential");
    });
    assertThat(trigger.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("sync.replicationRole");
      assertThat(err.message()).contains("logical only");
    });
  }

  @Test
  void syncOnASinglePhaseRun_isRefused() {
    RunbookInvalidException e =
        refused(Runbooks.SHOP_YAML + "sync:\n  method: trigger\nfallbackWindow: 1h\n");

    assertThat(e.errors()).extracting(FieldError::field).containsExactly("sync", "fallbackWindow");
  }

  @Test
  void unknownGate_isRefusedNamingTheStrategysGates() {
    RunbookInvalidException e =
        refused(Runbooks.SHOP_YAML + "  cutover:\n    approvers: [arjun]\n");

    assertThat(e.errors()).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("gates.cutover");
      assertThat(err.message()).contains("single-phase", "start");
    });
  }

  @Test
  void absurdNumbersAndDurations_areRefused() {
    assertThat(refused(Runbooks.SHOP_YAML.replace("jobs: 2", "jobs: 65")).errors())
        .extracting(FieldError::field)
        .containsExactly("snapshot.jobs");
    assertThat(refused(Runbooks.SHOP_YAML.replace("jobs: 2", "jobs: 2.5")).errors())
        .extracting(FieldError::field)
        .containsExactly("snapshot.jobs");
    assertThat(refused(Runbooks.SHOP_YAML.replace("timeout: 24h", "timeout: 10s")).errors())
        .extracting(FieldError::message)
        .containsExactly("must be between 1m and 30d");
    assertThat(refused(Runbooks.SHOP_YAML.replace("timeout: 24h", "timeout: 90d")).errors())
        .extracting(FieldError::field)
        .containsExactly("gates.start.timeout");
  }

  @Test
  void duplicateKeys_areRefused() {
    assertThat(refused("app: shop\napp: other\n").unreadable()).isTrue();
  }

  @Test
  void durations_acceptShortFormsAndIso() {
    assertThat(RunbookParser.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(RunbookParser.parseDuration("30m")).isEqualTo(Duration.ofMinutes(30));
    assertThat(RunbookParser.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(RunbookParser.parseDuration("PT36H")).isEqualTo(Duration.ofHours(36));
  }

  private static RunbookInvalidException refused(String yaml) {
    RunbookInvalidException e =
        catchThrowableOfType(RunbookInvalidException.class, () -> RunbookParser.parse(yaml));
    assertThat(e).as("the runbook should have been refused").isNotNull();
    return e;
  }
}

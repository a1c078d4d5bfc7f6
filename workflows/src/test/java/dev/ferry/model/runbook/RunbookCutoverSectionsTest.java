package dev.ferry.model.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.model.dns.TrafficRecords;
import dev.ferry.testing.Runbooks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optional sections of the cutover edge: dns, heroku, configVars, rds. */
class RunbookCutoverSectionsTest {
  static final String EDGE_YAML =
      Runbooks.SHOP_YAML
          + """
          dns:
            hostedZoneId: Z0FERRY1EXAMPLE
            recordName: WWW.Shop.example.com.
            herokuTarget: shop-production.herokudns.com
            awsTarget: shop-alb-1.eu-west-1.elb.amazonaws.com
            setIdentifiers: {heroku: heroku-side, aws: aws-side}
            lowerTtlTo: 30s
            steps:
              - {awsWeight: 5, dwell: 2m}
              - {awsWeight: 100, dwell: 10m}
            smokeChecks:
              - url: https://shop-aws.example.com/health
              - {url: "http://shop-aws.example.com/api/ping", expectStatus: 204, maxLatency: 500ms}
            maxErrorRate: 0.05
          heroku:
            apiToken: env:HEROKU_API_KEY
            maintenanceMode: false
            scaleDownAtDecommission: true
          configVars:
            ssmPrefix: /shop/production
            skip: [PAPERTRAIL_API_TOKEN, HEROKU_POSTGRESQL_RED_URL]
            rewrite:
              DATABASE_URL: ssm:/shop/DATABASE_URL
          rds:
            instanceId: shop-db
            restorePointBeforeCutover: true
          """;

  static final String MINIMAL_EDGE_YAML =
      Runbooks.SHOP_YAML
          + """
          dns:
            hostedZoneId: /hostedzone/Z0FERRY1EXAMPLE
            recordName: www.shop.example.com
            herokuTarget: shop-production.herokudns.com
            awsTarget: shop-alb-1.eu-west-1.elb.amazonaws.com
            smokeChecks: [{url: "https://shop-aws.example.com/health"}]
          heroku:
            apiToken: ssm:/shop/HEROKU_API_KEY
          configVars:
            ssmPrefix: /shop
            skip: [DATABASE_URL]
          rds:
            instanceId: shop-db
          """;

  @Test
  void everySectionParses_withEveryField() {
    Runbook runbook = RunbookParser.parse(EDGE_YAML);

    DnsSpec dns = runbook.dns();
    assertThat(dns.hostedZoneId()).isEqualTo("Z0FERRY1EXAMPLE");
    assertThat(dns.recordName()).isEqualTo("www.shop.example.com");
    assertThat(dns.recordType()).isEqualTo("CNAME");
    assertThat(dns.setIdentifiers()).isEqualTo(new DnsSpec.SetIdentifiers("heroku-side", "aws-side"));
    assertThat(dns.lowerTtlTo()).isEqualTo(Duration.ofSeconds(30));
    assertThat(dns.steps())
        .containsExactly(new TrafficStep(5, Duration.ofMinutes(2)), new TrafficStep(100, Duration.ofMinutes(10)));
    assertThat(dns.smokeChecks())
        .containsExactly(
            new SmokeCheckSpec("https://shop-aws.example.com/health", 200, Duration.ofSeconds(2)),
            new SmokeCheckSpec("http://shop-aws.example.com/api/ping", 204, Duration.ofMillis(500)));
    assertThat(dns.maxErrorRate()).isEqualTo(0.05);
    assertThat(dns.records())
        .isEqualTo(
            new TrafficRecords(
                "Z0FERRY1EXAMPLE",
                "www.shop.example.com",
                "CNAME",
                "heroku-side",
                "shop-production.herokudns.com",
                "aws-side",
                "shop-alb-1.eu-west-1.elb.amazonaws.com"));
    assertThat(runbook.heroku()).isEqualTo(new HerokuSpec("env:HEROKU_API_KEY", false, true));
    assertThat(runbook.configVars())
        .isEqualTo(
            new ConfigVarsSpec(
                "/shop/production",
                List.of("PAPERTRAIL_API_TOKEN", "HEROKU_POSTGRESQL_RED_URL"),
                Map.of("DATABASE_URL", "ssm:/shop/DATABASE_URL")));
    assertThat(runbook.rds()).isEqualTo(new RdsSpec("shop-db", true));
  }

  @Test
  void omittedFields_takeTheirDefaults() {
    Runbook runbook = RunbookParser.parse(MINIMAL_EDGE_YAML);

    DnsSpec dns = runbook.dns();
    assertThat(dns.hostedZoneId()).isEqualTo("Z0FERRY1EXAMPLE");
    assertThat(dns.recordType()).isEqualTo("CNAME");
    assertThat(dns.setIdentifiers()).isEqualTo(new DnsSpec.SetIdentifiers("heroku", "aws"));
    assertThat(dns.lowerTtlTo()).isEqualTo(Duration.ofSeconds(60));
    assertThat(dns.steps())
        .extracting(TrafficStep::awsWeight)
        .containsExactly(10, 50, 100);
    assertThat(dns.steps()).extracting(TrafficStep::dwell).containsOnly(Duration.ofMinutes(5));
    assertThat(dns.maxErrorRate()).isEqualTo(0.01);
    assertThat(runbook.heroku()).isEqualTo(new HerokuSpec("ssm:/shop/HEROKU_API_KEY", true, false));
    assertThat(runbook.configVars()).isEqualTo(new ConfigVarsSpec("/shop", List.of("DATABASE_URL"), Map.of()));
    assertThat(runbook.rds()).isEqualTo(new RdsSpec("shop-db", false));
  }

  @Test
  void aRunbookWithoutTheSections_hasNone() {
    Runbook runbook = Runbooks.shop();

    assertThat(runbook.dns()).isNull();
    assertThat(runbook.heroku()).isNull();
    assertThat(runbook.configVars()).isNull();
    assertThat(runbook.rds()).isNull();
  }

  @Test
  void aRecordsOfTypeA_takeIpAddresses() {
    Runbook runbook =
        RunbookParser.parse(
            MINIMAL_EDGE_YAML
                .replace("recordName: www.shop.example.com", "recordName: shop.example.com\n  recordType: a")
                .replace("herokuTarget: shop-production.herokudns.com", "herokuTarget: 203.0.113.10")
                .replace("awsTarget: shop-alb-1.eu-west-1.elb.amazonaws.com", "awsTarget: 198.51.100.7"));

    assertThat(runbook.dns().recordType()).isEqualTo("A");
    assertThat(runbook.dns().awsTarget()).isEqualTo("198.51.100.7");
  }

  @Test
  void weights_mustGrowStrictlyFrom1AndEndAt100() {
    assertThat(problems(steps("{awsWeight: 0, dwell: 1m}", "{awsWeight: 100, dwell: 1m}")))
        .containsExactly(new FieldError("dns.steps[0].awsWeight", "must be from 1 to 100, not 0"));
    assertThat(problems(steps("{awsWeight: 50, dwell: 1m}", "{awsWeight: 101, dwell: 1m}")))
        .extracting(FieldError::field)
        .containsExactly("dns.steps[1].awsWeight");
    assertThat(problems(steps("{awsWeight: 50, dwell: 1m}", "{awsWeight: 50, dwell: 1m}", "{awsWeight: 100}")))
        .containsExactly(
            new FieldError("dns.steps[1].awsWeight", "must be more than the step before (50): weights only grow"));
    assertThat(problems(steps("{awsWeight: 60}", "{awsWeight: 20}", "{awsWeight: 100}")))
        .extracting(FieldError::field)
        .containsExactly("dns.steps[1].awsWeight");
    assertThat(problems(steps("{awsWeight: 10}", "{awsWeight: 50}")))
        .containsExactly(new FieldError("dns.steps[1].awsWeight", "the last step must send 100 % to AWS, not 50"));
    assertThat(problems(steps("{dwell: 1m}", "{awsWeight: 100}")))
        .containsExactly(new FieldError("dns.steps[0].awsWeight", "is required"));
    assertThat(problems(steps("{awsWeight: 12.5}", "{awsWeight: 100}")))
        .extracting(FieldError::field)
        .containsExactly("dns.steps[0].awsWeight");
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  smokeChecks:", "  steps: []\n  smokeChecks:")))
        .extracting(FieldError::field)
        .containsExactly("dns.steps");
  }

  @Test
  void dwell_mustBeAPositiveDuration() {
    assertThat(problems(steps("{awsWeight: 100, dwell: 0s}")))
        .containsExactly(new FieldError("dns.steps[0].dwell", "must be between 1s and 24h"));
    assertThat(problems(steps("{awsWeight: 100, dwell: 25h}")))
        .extracting(FieldError::field)
        .containsExactly("dns.steps[0].dwell");
    assertThat(problems(steps("{awsWeight: 100, dwell: soon}")))
        .containsExactly(new FieldError("dns.steps[0].dwell", "must be a duration such as 60s, 5m or 1h"));
  }

  @Test
  void smokeCheckUrls_mustBeHttpOrHttpsWithAHostAndNoPassword() {
    assertThat(problems(smokeCheck("{url: \"ftp://shop-aws.example.com/health\"}")))
        .containsExactly(new FieldError("dns.smokeChecks[0].url", "must be an http or https URL"));
    assertThat(problems(smokeCheck("{url: \"https:///health\"}")))
        .extracting(FieldError::field)
        .containsExactly("dns.smokeChecks[0].url");
    assertThat(problems(smokeCheck("{url: \"not a url\"}")))
        .extracting(FieldError::field)
        .containsExactly("dns.smokeChecks[0].url");

    RunbookInvalidException e =
        refused(smokeCheck("{url: \"https://admin:hunter2@shop-aws.example.com/health\"}"));
    assertThat(e.errors()).extracting(FieldError::field).containsExactly("dns.smokeChecks[0].url");
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void smokeCheckStatusLatencyAndErrorRate_mustBeSensible() {
    assertThat(problems(smokeCheck("{url: \"https://a.example.com/\", expectStatus: 600, maxLatency: 0s}")))
        .extracting(FieldError::field)
        .containsExactly("dns.smokeChecks[0].expectStatus", "dns.smokeChecks[0].maxLatency");
    assertThat(problems(smokeCheck("{url: \"https://a.example.com/\", maxLatency: 31s}")))
        .containsExactly(new FieldError("dns.smokeChecks[0].maxLatency", "must be between 1ms and 30s"));
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  smokeChecks:", "  maxErrorRate: 1.5\n  smokeChecks:")))
        .extracting(FieldError::field)
        .containsExactly("dns.maxErrorRate");
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  smokeChecks:", "  maxErrorRate: low\n  smokeChecks:")))
        .extracting(FieldError::field)
        .containsExactly("dns.maxErrorRate");
  }

  @Test
  void aShiftWithoutSmokeChecks_isRefused() {
    String yaml = MINIMAL_EDGE_YAML.replace("  smokeChecks: [{url: \"https://shop-aws.example.com/health\"}]\n", "");

    assertThat(problems(yaml)).singleElement().satisfies(err -> {
      assertThat(err.field()).isEqualTo("dns.smokeChecks");
      assertThat(err.message()).startsWith("is required");
    });
  }

  @Test
  void recordsZoneAndTargets_areChecked() {
    assertThat(
            problems(
                MINIMAL_EDGE_YAML
                    .replace("/hostedzone/Z0FERRY1EXAMPLE", "my-zone")
                    .replace("recordName: www.shop.example.com", "recordName: \"www shop\"\n  recordType: MX")
                    .replace("awsTarget: shop-alb-1.eu-west-1.elb.amazonaws.com", "awsTarget: shop-production.herokudns.com")
                    .replace("  smokeChecks:", "  setIdentifiers: {heroku: same, aws: same}\n  lowerTtlTo: 2h\n  colour: blue\n  smokeChecks:")))
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder(
            "dns.hostedZoneId",
            "dns.recordName",
            "dns.recordType",
            "dns.awsTarget",
            "dns.setIdentifiers.aws",
            "dns.lowerTtlTo",
            "dns.colour");
    assertThat(
            problems(
                MINIMAL_EDGE_YAML
                    .replace("recordName: www.shop.example.com", "recordName: shop.example.com\n  recordType: A")))
        .extracting(FieldError::field)
        .containsExactly("dns.herokuTarget", "dns.awsTarget");
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  smokeChecks:", "  lowerTtlTo: 1500ms\n  smokeChecks:")))
        .containsExactly(new FieldError("dns.lowerTtlTo", "must be whole seconds: DNS counts TTLs in seconds"));
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  herokuTarget: shop-production.herokudns.com\n", "")))
        .containsExactly(new FieldError("dns.herokuTarget", "is required"));
  }

  @Test
  void heroku_needsATokenReferenceAndTheAppName() {
    RunbookInvalidException e =
        refused(
            MINIMAL_EDGE_YAML
                .replace("ssm:/shop/HEROKU_API_KEY", "d1f2-literal-token-9a8b")
                .replace("  herokuApp: shop-production\n", "")
                .replace("apiToken:", "maintenanceMode: \"yes\"\n  apiToken:"));

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder("source.herokuApp", "heroku.apiToken", "heroku.maintenanceMode");
    assertThat(e.getMessage()).doesNotContain("d1f2-literal-token-9a8b");
    assertThat(problems(MINIMAL_EDGE_YAML.replace("  apiToken: ssm:/shop/HEROKU_API_KEY\n", "  maintenanceMode: true\n")))
        .containsExactly(new FieldError("heroku.apiToken", "is required"));
  }

  @Test
  void configVarsPrefix_mustBeAnSsmPathOutsideAwsReservedNames() {
    assertThat(problems(prefix("shop/production")))
        .containsExactly(new FieldError("configVars.ssmPrefix", "must start with / such as /shop/production"));
    assertThat(problems(prefix("/shop/production/"))).extracting(FieldError::field).containsExactly("configVars.ssmPrefix");
    assertThat(problems(prefix("/shop//production"))).extracting(FieldError::field).containsExactly("configVars.ssmPrefix");
    assertThat(problems(prefix("/shop/pro duction"))).extracting(FieldError::field).containsExactly("configVars.ssmPrefix");
    assertThat(problems(prefix("/aws/shop")))
        .containsExactly(new FieldError("configVars.ssmPrefix", "must not start with /aws or /ssm: AWS reserves them"));
    assertThat(problems(prefix("/SSM"))).extracting(FieldError::field).containsExactly("configVars.ssmPrefix");
    assertThat(RunbookParser.parse(prefix("/ssmx/shop")).configVars().ssmPrefix()).isEqualTo("/ssmx/shop");
  }

  @Test
  void configVarsSkipAndRewrite_nameKeysOnceAndDatabaseUrlIsNeverCopiedAsIs() {
    assertThat(
            problems(
                EDGE_YAML
                    .replace("skip: [PAPERTRAIL_API_TOKEN, HEROKU_POSTGRESQL_RED_URL]", "skip: [PAPERTRAIL_API_TOKEN, PAPERTRAIL_API_TOKEN, 9LIVES, REDIS_URL]")
                    .replace("    DATABASE_URL: ssm:/shop/DATABASE_URL", "    DATABASE_URL: postgres://u:hunter2@rds/shop\n    REDIS_URL: env:REDIS_URL\n    bad-key: env:X")))
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder(
            "configVars.skip[1]",
            "configVars.skip[2]",
            "configVars.rewrite.DATABASE_URL",
            "configVars.rewrite.REDIS_URL",
            "configVars.rewrite.bad-key");

    assertThat(problems(MINIMAL_EDGE_YAML.replace("  skip: [DATABASE_URL]\n", "")))
        .singleElement()
        .satisfies(err -> {
          assertThat(err.field()).isEqualTo("configVars.rewrite");
          assertThat(err.message()).contains("DATABASE_URL", "Heroku database");
        });
  }

  @Test
  void configVars_needTheHerokuSection() {
    assertThat(problems(MINIMAL_EDGE_YAML.replace("heroku:\n  apiToken: ssm:/shop/HEROKU_API_KEY\n", "")))
        .containsExactly(
            new FieldError("heroku", "is required when the runbook has configVars: they are read with heroku.apiToken"));
  }

  @Test
  void rds_needsAValidInstanceIdentifier() {
    for (String bad : List.of("1db", "shop--db", "shop-db-", "shop_db")) {
      assertThat(problems(MINIMAL_EDGE_YAML.replace("instanceId: shop-db", "instanceId: " + bad)))
          .as(bad)
          .extracting(FieldError::field)
          .containsExactly("rds.instanceId");
    }
    assertThat(problems(MINIMAL_EDGE_YAML.replace("instanceId: shop-db", "restorePointBeforeCutover: \"yes\"")))
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder("rds.instanceId", "rds.restorePointBeforeCutover");
  }

  @Test
  void sectionsThatAreNotMappings_areRefused() {
    assertThat(problems(Runbooks.SHOP_YAML + "dns: yes\nheroku: [a]\nrds: 3\n"))
        .extracting(FieldError::field)
        .containsExactly("dns", "heroku", "rds");
  }

  private static String steps(String... steps) {
    return MINIMAL_EDGE_YAML.replace("  smokeChecks:", "  steps: [" + String.join(", ", steps) + "]\n  smokeChecks:");
  }

  private static String smokeCheck(String check) {
    return MINIMAL_EDGE_YAML.replace("[{url: \"https://shop-aws.example.com/health\"}]", "[" + check + "]");
  }

  private static String prefix(String prefix) {
    return MINIMAL_EDGE_YAML.replace("ssmPrefix: /shop", "ssmPrefix: \"" + prefix + "\"");
  }

  private static List<FieldError> problems(String yaml) {
    return refused(yaml).errors();
  }

  private static RunbookInvalidException refused(String yaml) {
    RunbookInvalidException e = catchThrowableOfType(RunbookInvalidException.class, () -> RunbookParser.parse(yaml));
    assertThat(e).as("the runbook should have been refused").isNotNull();
    return e;
  }
}

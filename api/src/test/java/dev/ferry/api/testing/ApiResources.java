package dev.ferry.api.testing;

import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.resources.RunbookReader;
import dev.ferry.api.resources.RunbooksResource;
import dev.ferry.api.resources.RunsResource;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.model.ApprovalKeys;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.ResourceExtension;
import java.time.Clock;

/** The runs and runbooks resources over HTTP as the application registers them: auth, error mappers, JSON. */
public final class ApiResources {
  private ApiResources() {}

  public static ResourceExtension runs(RunGateway gateway, TestLedger ledger) {
    return runs(gateway, ledger.ledger(), ApprovalKeys.none());
  }

  public static ResourceExtension runs(RunGateway gateway, RunLedger ledger, ApprovalKeys keys) {
    RunbookReader reader = RunbookReader.fieldsOnly();
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(FerryApplication.configure(Jackson.newObjectMapper()))
            .addResource(new RunsResource(gateway, ledger, reader, keys, Clock.systemUTC()))
            .addResource(new RunbooksResource(reader));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }
}

package dev.ferry.api.testing;

import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.resources.RunsResource;
import dev.ferry.api.temporal.RunGateway;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.ResourceExtension;

/** The runs resource over HTTP as the application registers it: auth, error mappers, JSON. */
public final class ApiResources {
  private ApiResources() {}

  public static ResourceExtension runs(RunGateway gateway) {
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(FerryApplication.configure(Jackson.newObjectMapper()))
            .addResource(new RunsResource(gateway));
    ApiAuth.jerseyComponents(TestUsers.ALL).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }
}
